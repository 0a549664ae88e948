/* SOCKS 4/4a/5 handshakes read byte by byte (RFC 1928, RFC 1929, the SOCKS 4 and 4a notes). */
#include <stdio.h>
#include <string.h>
#include "session/socks.h"

/* The fields of each side, in the order they come. */
enum step {
	C4_VER, C4_CMD, C4_PORT, C4_IP, C4_USER, C4_HOST,
	C5_VER, C5_NMETHODS, C5_METHODS, C5_NEXT, C5_ULEN, C5_USER, C5_PLEN, C5_PASS,
	C5_REQ_VER, C5_CMD, C5_RSV, C5_ATYP, C5_LEN, C5_ADDR, C5_PORT,
	P4_VER, P4_CODE, P4_REST,
	P5_VER, P5_METHOD, P5_AUTH_VER, P5_AUTH_STATUS, P5_REP_VER, P5_REP, P5_RSV, P5_ATYP,
	P5_LEN, P5_ADDR, P5_PORT,
};

enum { GO_ON, LAST, BAD };

int socks_version(const uint8_t *p, size_t n)
{
	if (n && p[0] == 4 && (n < 2 || p[1] == 1 || p[1] == 2))
		return 4;
	if (n && p[0] == 5 && (n < 2 || (p[1] >= 1 && p[1] <= 16)))
		return 5;
	return 0;
}

void socks_init(struct socks *s, int version)
{
	memset(s, 0, sizeof(*s));
	s->version = (uint8_t)version;
	s->side[0].step = version == 4 ? C4_VER : C5_VER;
	s->side[1].step = version == 4 ? P4_VER : P5_VER;
}

const char *socks_name(const struct socks *s)
{
	return s->version == 4 ? "socks4" : "socks5";
}

static void set_target(struct socks *s)
{
	const uint8_t *a = s->addr;

	if (s->atyp == 3)
		snprintf(s->target, sizeof(s->target), "%.*s:%u", (int)s->name_len, s->name,
			 s->port);
	else if (s->atyp == 4)
		snprintf(s->target, sizeof(s->target), "[%x:%x:%x:%x:%x:%x:%x:%x]:%u",
			 a[0] << 8 | a[1], a[2] << 8 | a[3], a[4] << 8 | a[5], a[6] << 8 | a[7],
			 a[8] << 8 | a[9], a[10] << 8 | a[11], a[12] << 8 | a[13],
			 a[14] << 8 | a[15], s->port);
	else
		snprintf(s->target, sizeof(s->target), "%u.%u.%u.%u:%u", a[0], a[1], a[2], a[3],
			 s->port);
}

/* The next field: step, need bytes long (0: read up to its end by its own rule). */
static int next(struct socks_side *d, uint8_t step, uint16_t need)
{
	d->step = step;
	d->need = need;
	return GO_ON;
}

/* A SOCKS 5 address type: its field comes next (a name's length first), or BAD. */
static int address(struct socks_side *d, uint8_t atyp, uint8_t len_step, uint8_t addr_step)
{
	if (atyp == 1 || atyp == 4)
		return next(d, addr_step, atyp == 1 ? 4 : 16);
	return atyp == 3 ? next(d, len_step, 1) : BAD;
}

/* Text in a user id or a name: printable ASCII (binary bytes are not a handshake). */
static bool printable(uint8_t c)
{
	return c >= 0x20 && c < 0x7f;
}

/* A SOCKS 4 user id or 4a name: printable, up to its NUL, 255 bytes at most. */
static int to_nul(struct socks *s, struct socks_side *d, uint8_t c, bool keep)
{
	if (!c)
		return LAST;
	if (++d->need > 255 || !printable(c))
		return BAD;
	if (keep)
		s->name[s->name_len++] = (char)c;
	return GO_ON;
}

/* The client's SOCKS 4 request has ended at the user id's NUL (4a: a name follows). */
static int user_done(struct socks *s, struct socks_side *d)
{
	const uint8_t *a = s->addr;

	s->atyp = 1;
	if (a[0] || a[1] || a[2] || !a[3]) {
		set_target(s);
		return LAST;
	}
	s->atyp = 3;
	return next(d, C4_HOST, 0);
}

static int client4(struct socks *s, struct socks_side *d, uint8_t c)
{
	int r;

	switch (d->step) {
	case C4_VER:
		return c == 4 ? next(d, C4_CMD, 1) : BAD;
	case C4_CMD:
		return c == 1 || c == 2 ? next(d, C4_PORT, 2) : BAD;
	case C4_PORT:
		s->port = (uint16_t)(s->port << 8 | c);
		if (--d->need)
			return GO_ON;
		return s->port ? next(d, C4_IP, 4) : BAD;
	case C4_IP:
		s->addr[4 - d->need] = c;
		return --d->need ? GO_ON : next(d, C4_USER, 0);
	case C4_USER:
		r = to_nul(s, d, c, false);
		return r == LAST ? user_done(s, d) : r;
	default:
		r = to_nul(s, d, c, true);
		if (r == LAST)
			set_target(s);
		return r;
	}
}

/* Length-prefixed fields of the client's SOCKS 5 messages; the request's address is kept. */
static int client5(struct socks *s, struct socks_side *d, uint8_t c)
{
	switch (d->step) {
	case C5_VER:
		return c == 5 ? next(d, C5_NMETHODS, 1) : BAD;
	case C5_NMETHODS:
		return c ? next(d, C5_METHODS, c) : BAD;
	case C5_METHODS:  /* assigned (0-9) or private (0x80-0xfe) */
		if (c > 9 && (c < 0x80 || c == 0xff))
			return BAD;
		return --d->need ? GO_ON : next(d, C5_NEXT, 1);
	case C5_NEXT:  /* a username/password (RFC 1929) or the request */
		if (c == 1)
			return next(d, C5_ULEN, 1);
		return c == 5 ? next(d, C5_CMD, 1) : BAD;
	case C5_ULEN:
		return c ? next(d, C5_USER, c) : BAD;
	case C5_USER:
		return --d->need ? GO_ON : next(d, C5_PLEN, 1);
	case C5_PLEN:
		return c ? next(d, C5_PASS, c) : next(d, C5_REQ_VER, 1);
	case C5_PASS:
		return --d->need ? GO_ON : next(d, C5_REQ_VER, 1);
	case C5_REQ_VER:
		return c == 5 ? next(d, C5_CMD, 1) : BAD;
	case C5_CMD:
		return c >= 1 && c <= 3 ? next(d, C5_RSV, 1) : BAD;
	case C5_RSV:
		return c == 0 ? next(d, C5_ATYP, 1) : BAD;
	case C5_ATYP:
		s->atyp = c;
		return address(d, c, C5_LEN, C5_ADDR);
	case C5_LEN:
		return c ? next(d, C5_ADDR, c) : BAD;
	case C5_ADDR:
		if (s->atyp == 3 && !printable(c))
			return BAD;
		if (s->atyp == 3)
			s->name[s->name_len++] = (char)c;
		else
			s->addr[(s->atyp == 1 ? 4 : 16) - d->need] = c;
		return --d->need ? GO_ON : next(d, C5_PORT, 2);
	default:
		s->port = (uint16_t)(s->port << 8 | c);
		if (--d->need)
			return GO_ON;
		set_target(s);
		return LAST;
	}
}

/* The proxy's answers: SOCKS 4's eight bytes; SOCKS 5's method, auth status and reply. */
static int proxy(struct socks *s, struct socks_side *d, uint8_t c)
{
	switch (d->step) {
	case P4_VER:
		return c == 0 ? next(d, P4_CODE, 1) : BAD;
	case P4_CODE:
		return c >= 0x5a && c <= 0x5d ? next(d, P4_REST, 6) : BAD;
	case P4_REST:
		return --d->need ? GO_ON : LAST;
	case P5_VER:
		return c == 5 ? next(d, P5_METHOD, 1) : BAD;
	case P5_METHOD:
		if (c == 0xff)
			return LAST;  /* no method: the proxy closes */
		return c == 2 ? next(d, P5_AUTH_VER, 1) : next(d, P5_REP_VER, 1);
	case P5_AUTH_VER:
		return c == 1 ? next(d, P5_AUTH_STATUS, 1) : BAD;
	case P5_AUTH_STATUS:
		return next(d, P5_REP_VER, 1);
	case P5_REP_VER:
		return c == 5 ? next(d, P5_REP, 1) : BAD;
	case P5_REP:
		return next(d, P5_RSV, 1);
	case P5_RSV:
		return c == 0 ? next(d, P5_ATYP, 1) : BAD;
	case P5_ATYP:
		return address(d, c, P5_LEN, P5_ADDR);
	case P5_LEN:
		return c ? next(d, P5_ADDR, c) : BAD;
	case P5_ADDR:
		return --d->need ? GO_ON : next(d, P5_PORT, 2);
	default:
		return --d->need ? GO_ON : LAST;
	}
}

size_t socks_skip(struct socks *s, int side, const uint8_t *p, size_t n)
{
	struct socks_side *d = &s->side[side];
	size_t i;
	int r;

	for (i = 0; i < n && d->state == SOCKS_RUNNING; i++) {
		if (side)
			r = proxy(s, d, p[i]);
		else
			r = s->version == 4 ? client4(s, d, p[i]) : client5(s, d, p[i]);
		if (r == BAD) {
			d->state = SOCKS_FAILED;
			return i;
		}
		if (r == LAST)
			d->state = SOCKS_DONE;
	}
	return i;
}
