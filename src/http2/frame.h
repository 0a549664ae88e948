/*
 * HTTP/2 (RFC 9113) framing of one direction of a connection: the client's connection
 * preface, then frames. Pure: bytes in (whole, in pieces, or lost), callbacks out. Header
 * block fragments (HEADERS, PUSH_PROMISE, CONTINUATION) come out without padding or
 * priority fields, SETTINGS one parameter at a time; DATA only as lengths.
 */
#ifndef HTTPEEK_HTTP2_FRAME_H
#define HTTPEEK_HTTP2_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define H2_PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define H2_PREFACE_LEN 24u
#define H2_PREFACE_LINE 16u      /* "PRI * HTTP/2.0\r\n": what an HTTP/1.x parser reads of it */
#define H2_FRAME_HEADER 9u
#define H2_DEFAULT_MAX_FRAME 16384u

enum h2_type {
	H2_DATA = 0,
	H2_HEADERS = 1,
	H2_PRIORITY = 2,
	H2_RST_STREAM = 3,
	H2_SETTINGS = 4,
	H2_PUSH_PROMISE = 5,
	H2_PING = 6,
	H2_GOAWAY = 7,
	H2_WINDOW_UPDATE = 8,
	H2_CONTINUATION = 9,
};

#define H2_END_STREAM 0x01
#define H2_ACK 0x01
#define H2_END_HEADERS 0x04
#define H2_PADDED 0x08
#define H2_PRIORITY_FLAG 0x20

#define H2_SETTINGS_HEADER_TABLE_SIZE 1u

/* One frame as the framer has read it so far. */
struct h2_frame {
	uint32_t len;            /* payload bytes */
	uint32_t stream;
	uint8_t type, flags;
	uint8_t pad;             /* padding bytes (PADDED), once read */
	bool lost;               /* bytes of its payload that matter never came */
	bool malformed;          /* lengths that do not add up (padding, fixed-size payloads) */
	uint32_t data;           /* DATA: bytes that are data, not padding (valid unless lost) */
	uint32_t promised;       /* PUSH_PROMISE: the promised stream */
	uint32_t error;          /* RST_STREAM, GOAWAY: the error code */
	uint32_t last_stream;    /* GOAWAY */
};

/* What the framer tells; every callback may be NULL. */
struct h2_frame_ops {
	/* The frame header of f was read; its payload follows. */
	void (*begin)(void *ctx, const struct h2_frame *f);
	/* n bytes of f's header block fragment; p NULL: n such bytes never came. */
	void (*block)(void *ctx, const struct h2_frame *f, const uint8_t *p, size_t n);
	/* One SETTINGS parameter of f. */
	void (*setting)(void *ctx, const struct h2_frame *f, uint16_t id, uint32_t value);
	/* f's payload is over (also when it was lost or malformed). */
	void (*end)(void *ctx, const struct h2_frame *f);
	/* Frame boundaries are lost: bytes that never came crossed a frame header. */
	void (*lost)(void *ctx);
	/* The connection preface was wrong: nothing more of this direction is read. */
	void (*bad_preface)(void *ctx);
};

enum h2_framer_state {
	H2F_PREFACE, H2F_HEAD, H2F_PADLEN, H2F_PREFIX, H2F_BODY, H2F_SKIP, H2F_LOST, H2F_DEAD,
};

/* One direction; zero it and call h2_framer_init. */
struct h2_framer {
	const struct h2_frame_ops *ops;
	void *ctx;
	struct h2_frame f;
	uint32_t left;           /* payload bytes of f not read yet */
	uint32_t part;           /* bytes left of the part being read (prefix, body) */
	uint32_t preface;        /* preface bytes read so far */
	uint8_t state;           /* enum h2_framer_state */
	uint8_t n;               /* bytes in buf */
	uint8_t buf[9];          /* a frame header, a prefix or a SETTINGS parameter being read */
	uint64_t frames;         /* frame headers read */
	uint64_t malformed;      /* frames whose lengths did not add up */
	uint64_t resyncs;        /* times framing was found again after it was lost */
};

/*
 * Starts a direction: preface is the number of preface bytes already read (0 to 24; 24 for a
 * server's direction, which starts with frames). ops and ctx are kept.
 */
void h2_framer_init(struct h2_framer *fr, uint32_t preface, const struct h2_frame_ops *ops,
		    void *ctx);

/*
 * In-order bytes. piece: they begin a piece of their own (a TCP segment): after framing was
 * lost, a piece that begins with plausible frame headers (h2_frames_plausible) takes it up
 * again there.
 */
void h2_framer_data(struct h2_framer *fr, const uint8_t *p, size_t n, bool piece);

/* n bytes never came: skipped inside a payload, else framing is lost. */
void h2_framer_gap(struct h2_framer *fr, size_t n);

/* The next byte begins a frame (the source knows): framing goes on from there if lost. */
void h2_framer_boundary(struct h2_framer *fr);

/*
 * True when p[0..n) begins with HTTP/2 frames: every frame header in it (at least one whole)
 * is valid for its type (known type, stream 0 where required, fixed lengths, length up to
 * 16384) and the frames tile the bytes (the last one may run past n).
 */
bool h2_frames_plausible(const uint8_t *p, size_t n);

#endif
