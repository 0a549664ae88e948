/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel's HTTP/1.x framer (HTTP/2's in h2.h): follows one direction of a connection
 * byte by byte as src/http/stream.c does (heads, Content-Length and chunked bodies, HEAD,
 * 1xx, 204, 304, close-delimited bodies, tunnels) and marks the payload ranges user space
 * needs: every byte except body and chunk data, which user space skips by length. Whatever
 * it cannot frame as user space would, it copies whole from there on (D_WHOLE), so user
 * space, which frames exactly, still gets every byte it looks at.
 *
 * Compiled for BPF and for user space (tests and fuzzing), so that the two framers can be
 * compared on the same byte streams. It reads no bytes itself: its caller loads what
 * frame_need() asks for (step.h). Needs __u8 .. __u64 and __always_inline. The parts, in
 * the order a byte meets them:
 *
 *	token.h    token characters, method length, what starts a message (user space too)
 *	state.h    per-direction and per-connection state, one pass, the ranges to copy
 *	head.h     start lines and field lines, byte by byte
 *	pairing.h  a whole head: what its response or body will be
 *	body.h     bodies by length, chunked framing
 *	h2.h       HTTP/2: the preface, or SETTINGS first, then frames (DATA skipped by length)
 *	fast.h     the eight-bytes-at-a-time path through heads
 *	step.h     one pass over a payload
 *	seq.h      a direction's byte stream across packets: holes, retransmissions
 */
#ifndef HTTPEEK_FRAME_H
#define HTTPEEK_FRAME_H

#include "frame/step.h"
#include "frame/seq.h"

#endif
