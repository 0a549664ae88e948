/*
 * Records the BPF programs write to the ring buffer; the only layout shared by the kernel
 * and user space. Fixed-width types, largest fields first, packet bytes in network order.
 * Every record starts with struct rec_hdr; type says which record follows.
 */
#ifndef HTTPEEK_RECORD_H
#define HTTPEEK_RECORD_H

#ifndef __bpf__
#include <linux/types.h>  /* the kernel's __u* types; BPF programs have them from vmlinux_min.h */
#endif

#define REC_PACKET 1u  /* struct rec_packet + cap_len packet bytes from the IP header */
#define REC_OWNER 2u   /* struct rec_owner: a process used the socket */
#define REC_GONE 3u    /* struct rec_hdr: the socket reached TCP_CLOSE */
#define REC_TLS 4u     /* struct rec_tls + cap_len plaintext bytes of one TLS library call */
#define REC_IFACE 5u   /* struct rec_iface: the name of an interface in a network namespace */

#define REC_DIR_INGRESS 1u  /* same values as enum direction */
#define REC_DIR_EGRESS 2u

/*
 * rec_packet.flags. The kernel frames each direction as user space does and copies every
 * byte but body and chunk data; the payload a record stands for but does not hold is body.
 */
#define REC_F_BOUNDARY 0x01  /* the payload that follows starts between two messages */
#define REC_F_WHOLE 0x02     /* copied whole: the kernel could not frame it */
#define REC_F_AFTER_DROP 0x04 /* an earlier record of this direction found the ring full */
#define REC_F_EARLY 0x08     /* may be ahead of bytes still to come: hold it, not a gap before */
#define REC_F_FIN 0x10       /* rec_tls: the TLS stream ended; no payload */

/* Largest record payload (copy bytes after struct rec_packet); longer copies are split. */
#define REC_MAX_COPY 65536u
/* Longest IP and TCP headers copied before the payload (IPv4 60 + TCP 60). */
#define REC_HDR_MAX 120u
#define REC_COMM_LEN 16
#define REC_NODENAME_LEN 72  /* the kernel's 65 rounded up; always NUL-terminated */
#define REC_IFNAME_LEN 16    /* the kernel's IFNAMSIZ; NUL-terminated */

struct rec_hdr {
	__u64 ts_ns;        /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u64 sock_cookie;
	__u32 type;         /* REC_* */
	__u32 pad;
};

struct rec_packet {
	struct rec_hdr h;
	__u64 peer_cookie;  /* loopback: the other socket end, which this copy also stands for */
	__u32 wire_len;     /* skb->len: IP header to the end of the payload */
	__u32 cap_len;      /* bytes that follow: hdr_len header bytes, then payload bytes */
	__u32 ifindex;      /* the interface, in the socket's network namespace */
	__u32 net_ns;       /* that namespace's inode (REC_IFACE names the pair) */
	__u32 payload_off;  /* payload offset of the first payload byte that follows */
	__u32 payload_span; /* payload bytes this record stands for, from payload_off */
	__u16 hdr_len;      /* IP and TCP header bytes at the start of the copy */
	__u8 dir;           /* REC_DIR_* */
	__u8 flags;         /* REC_F_* */
	__u8 pad[4];
	/* cap_len bytes follow: the headers, then payload bytes from payload_off on */
};

/*
 * The name an interface had when a packet of an HTTP socket went through it, written before
 * that packet's copies; said again after a minute, or when the name changed. Index 1 (lo)
 * is never said.
 */
struct rec_iface {
	struct rec_hdr h;     /* sock_cookie: the socket whose packet named it */
	__u32 net_ns;       /* the network namespace's inode */
	__u32 ifindex;
	char name[REC_IFNAME_LEN];
};

struct rec_owner {
	struct rec_hdr h;
	__u64 cgroup_id;
	__u64 start_ns;     /* task->start_time: CLOCK_MONOTONIC */
	__u32 pid, tid, ppid;            /* in the task's own pid namespace */
	__u32 host_pid, host_tid, host_ppid;
	__u32 uid;
	__u32 mnt_ns, pid_ns, net_ns;    /* namespace inode numbers */
	char comm[REC_COMM_LEN];
	char nodename[REC_NODENAME_LEN];
};

/*
 * The plaintext of one SSL_read or SSL_write (or _ex) call, framed like a packet's payload:
 * the call is the "packet", seq its first byte's offset in the TLS stream. The connection is
 * the TCP socket the thread used inside the call (or earlier on the same SSL object).
 */
struct rec_tls {
	struct rec_hdr h;          /* sock_cookie: the TCP socket under the TLS stream */
	__u8 src[16];            /* sender: IPv4 in the first 4 bytes */
	__u8 dst[16];            /* receiver */
	__u32 seq;               /* stream offset of the call's first byte, modulo 2^32 */
	__u32 call_len;          /* plaintext bytes the call moved */
	__u32 cap_len;           /* plaintext bytes that follow */
	__u32 payload_off;       /* offset in the call of the first byte that follows */
	__u32 payload_span;      /* bytes the record stands for, from payload_off */
	__u16 src_port, dst_port;  /* host order */
	__u8 family;             /* 4 or 6 (the socket's; IPv4-mapped IPv6 stays 6) */
	__u8 dir;                /* REC_DIR_*: egress for writes, ingress for reads */
	__u8 flags;              /* REC_F_* */
	__u8 pad[5];
	/* cap_len plaintext bytes follow */
};

#ifndef __bpf__
_Static_assert(sizeof(struct rec_hdr) == 24, "rec_hdr layout");
_Static_assert(sizeof(struct rec_packet) == 64, "rec_packet layout");
_Static_assert(sizeof(struct rec_iface) == 48, "rec_iface layout");
_Static_assert(sizeof(struct rec_owner) == 168, "rec_owner layout");
_Static_assert(sizeof(struct rec_tls) == 88, "rec_tls layout");
#endif

#endif
