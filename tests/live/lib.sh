# Sourced by the live shell suites (bash): what keeps one run apart from its neighbours (other
# runs of the same tests, other traffic on the host) and tells when a process is ready.

# Addresses of this run's veth pair, from its pid: 10.B.C.1 and .2, fd00:P::1 and ::2 (P the
# pid in hex). Two runs at once share them only when their pids are equal modulo 32768.
NET4=10.$((128 + ($$ >> 8) % 128)).$(($$ % 256))
NET6=fd00:$(printf %x $$)
V4_C=$NET4.1
V4_S=$NET4.2
V6_C=$NET6::1
V6_S=$NET6::2

# free_port: a TCP port no socket uses now (the kernel's pick for port 0).
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_file FILE [SECONDS]: waits until FILE is not empty (a server's "listening" line).
wait_file() {
	local _
	for _ in $(seq $((${2:-10} * 20))); do
		[ -s "$1" ] && return 0
		sleep 0.05
	done
	return 1
}
