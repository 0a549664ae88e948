/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Go's crypto/tls, for tls.bpf.c: the register ABI (Go 1.17 and later on x86-64, 1.18 on
 * arm64) and the socket under a *tls.Conn, found through the net.Conn it wraps.
 *
 * Registers at the entry of a method (receiver first, a slice as pointer, length, capacity):
 *
 *   x86-64: arguments RAX RBX RCX RDI RSI R8 R9 R10 R11; results the same; g (the goroutine) R14
 *   arm64:  arguments and results X0-X15; g X28
 *
 * so for (*Conn).Write(b) and (*Conn).Read(b): c RAX, b's pointer RBX, its length RCX (arm64:
 * X0, X1, X2); at each return of Read, n is in RAX (X0).
 *
 * The socket: a tls.Conn starts with its net.Conn (an interface: type word, data word); for a
 * *net.TCPConn the data word points to a net.conn whose first word is its *net.netFD; the
 * netFD starts with a poll.FD, whose fdMutex (a uint64 and two uint32, 16 bytes) comes before
 * Sysfd, the descriptor. These offsets (8, 0, 16, 64-bit) have not changed from Go 1.12 to
 * 1.24. The descriptor is then looked up in the task's file table, and taken only when it is
 * a socket whose file points back to the file found (another net.Conn behind the interface,
 * a TLS connection over something else, gives no socket: counted, not guessed).
 */
#ifndef HTTPEEK_BPF_LIB_GO_H
#define HTTPEEK_BPF_LIB_GO_H

#if defined(__TARGET_ARCH_x86)
#define GO_ARG1(x) ((x)->ax)
#define GO_ARG2(x) ((x)->bx)
#define GO_ARG3(x) ((x)->cx)
#define GO_RET1(x) ((x)->ax)
#define GO_G(x) ((x)->r14)
#elif defined(__TARGET_ARCH_arm64)
#define GO_ARG1(x) (((const struct user_pt_regs *)(x))->regs[0])
#define GO_ARG2(x) (((const struct user_pt_regs *)(x))->regs[1])
#define GO_ARG3(x) (((const struct user_pt_regs *)(x))->regs[2])
#define GO_RET1(x) (((const struct user_pt_regs *)(x))->regs[0])
#define GO_G(x) (((const struct user_pt_regs *)(x))->regs[28])
#else
#define GO_ARG1(x) 0
#define GO_ARG2(x) 0
#define GO_ARG3(x) 0
#define GO_RET1(x) 0
#define GO_G(x) 0
#endif

#define GO_CONN_DATA_OFF 8    /* tls.Conn.conn's data word */
#define GO_TCPCONN_FD_OFF 0   /* net.TCPConn (net.conn).fd */
#define GO_NETFD_SYSFD_OFF 16 /* net.netFD.pfd.Sysfd */
#define GO_MAX_FD (1 << 20)

/* The TCP socket of the *tls.Conn at conn in the current process, or NULL. */
static __always_inline struct sock *go_conn_sock(__u64 conn)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct file **fds, *f;
	struct fdtable *fdt;
	struct socket *so;
	__u64 data, netfd;
	__s64 fd;

	if (bpf_probe_read_user(&data, sizeof(data), (const void *)(conn + GO_CONN_DATA_OFF)) ||
	    bpf_probe_read_user(&netfd, sizeof(netfd),
				(const void *)(data + GO_TCPCONN_FD_OFF)) ||
	    bpf_probe_read_user(&fd, sizeof(fd), (const void *)(netfd + GO_NETFD_SYSFD_OFF)))
		return NULL;
	fdt = BPF_CORE_READ(task, files, fdt);
	if (!fdt || fd < 0 || fd >= GO_MAX_FD || fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]) || !f)
		return NULL;
	so = BPF_CORE_READ(f, private_data);
	if (!so || BPF_CORE_READ(so, file) != f)
		return NULL;
	return BPF_CORE_READ(so, sk);
}

#endif
