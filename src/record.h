/*
 * Records the BPF programs write to the ring buffer; the only layout shared by the kernel
 * and user space. Fixed-width types, largest fields first, packet bytes in network order.
 * Every record starts with struct rec_hdr; type says which record follows.
 */
#ifndef HTTPEEK_RECORD_H
#define HTTPEEK_RECORD_H

#ifdef __bpf__
typedef __u8 rec_u8;
typedef __u32 rec_u32;
typedef __u64 rec_u64;
#else
#include <stdint.h>
typedef uint8_t rec_u8;
typedef uint32_t rec_u32;
typedef uint64_t rec_u64;
#endif

#define REC_PACKET 1u  /* struct rec_packet + cap_len packet bytes from the IP header */
#define REC_OWNER 2u   /* struct rec_owner: a process used the socket */
#define REC_GONE 3u    /* struct rec_hdr: the socket reached TCP_CLOSE */

#define REC_DIR_INGRESS 1u  /* same values as enum direction */
#define REC_DIR_EGRESS 2u

/* Largest packet copy (a 64 KiB GSO packet on loopback plus its headers). */
#define REC_MAX_COPY 65536u
#define REC_COMM_LEN 16
#define REC_NODENAME_LEN 72  /* the kernel's 65 rounded up; always NUL-terminated */

struct rec_hdr {
	rec_u64 ts_ns;        /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	rec_u64 sock_cookie;
	rec_u32 type;         /* REC_* */
	rec_u32 pad;
};

struct rec_packet {
	struct rec_hdr h;
	rec_u64 peer_cookie;  /* loopback: the receiving socket, whose ingress copy this also is */
	rec_u32 wire_len;     /* skb->len: IP header to the end of the payload */
	rec_u32 cap_len;      /* bytes that follow this header */
	rec_u32 ifindex;
	rec_u8 dir;           /* REC_DIR_* */
	rec_u8 pad[3];
	/* cap_len bytes starting at the IP header follow */
};

struct rec_owner {
	struct rec_hdr h;
	rec_u64 cgroup_id;
	rec_u64 start_ns;     /* task->start_time: CLOCK_MONOTONIC */
	rec_u32 pid, tid, ppid;            /* in the task's own pid namespace */
	rec_u32 host_pid, host_tid, host_ppid;
	rec_u32 uid;
	rec_u32 mnt_ns, pid_ns, net_ns;    /* namespace inode numbers */
	char comm[REC_COMM_LEN];
	char nodename[REC_NODENAME_LEN];
};

#ifndef __bpf__
_Static_assert(sizeof(struct rec_hdr) == 24, "rec_hdr layout");
_Static_assert(sizeof(struct rec_packet) == 48, "rec_packet layout");
_Static_assert(sizeof(struct rec_owner) == 168, "rec_owner layout");
#endif

#endif
