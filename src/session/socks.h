#ifndef HTTPEEK_SOCKS_H
#define HTTPEEK_SOCKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * SOCKS 4, 4a and 5 handshakes at the start of a connection, read byte by byte so that any
 * split of the bytes gives the same result. The client (the side that spoke first) sends a
 * greeting (5: its methods, maybe a username and password) and a CONNECT; the proxy answers
 * each. What follows a side's handshake is the tunnelled connection's bytes.
 */
#define SOCKS_TARGET_MAX 272u  /* "name:port" of the longest name, NUL included */

enum socks_state { SOCKS_RUNNING, SOCKS_DONE, SOCKS_FAILED };

struct socks_side {
	enum socks_state state;
	uint8_t step;            /* the field being read */
	uint16_t need;           /* bytes of it still due */
};

struct socks {
	uint8_t version;         /* 4 or 5 */
	uint8_t atyp;            /* the client's address: 1 IPv4, 3 a name, 4 IPv6 */
	uint8_t addr[16];
	char name[256];
	uint16_t name_len, port;
	struct socks_side side[2];
	char target[SOCKS_TARGET_MAX];  /* "host:port" the client asked for, once asked */
};

/*
 * The first bytes of a connection, sent by its client: 4 or 5 when they may begin a SOCKS 4
 * or 5 greeting, else 0.
 */
int socks_version(const uint8_t *p, size_t n);

/* Sets s up to read a handshake of version (4 or 5) from its first byte. */
void socks_init(struct socks *s, int version);

/*
 * Reads handshake bytes of side (0: the client, 1: the proxy) at p; returns how many of the
 * n bytes belong to the handshake. The side's state becomes SOCKS_DONE after its last byte
 * (the rest is the tunnel's) or SOCKS_FAILED at the first byte that is not SOCKS (that byte
 * and the rest are left to the caller).
 */
size_t socks_skip(struct socks *s, int side, const uint8_t *p, size_t n);

/* "socks4" or "socks5". */
const char *socks_name(const struct socks *s);

#endif
