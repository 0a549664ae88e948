#!/bin/sh
# Runs a command as a fresh host has it: in a private mount namespace (nothing mounted or
# unmounted in it is seen outside) where neither tracefs nor debugfs is mounted, whatever the
# host has. httpeek must need neither. Usage: tests/live/fresh.sh COMMAND [ARG...]
exec unshare --mount --propagation private sh -c '
	for m in $(awk "\$3 == \"tracefs\" || \$3 == \"debugfs\" { print \$2 }" /proc/self/mounts |
		   sort -r); do
		umount -l "$m" || { echo "fresh: failed to unmount $m" >&2; exit 1; }
	done
	exec "$@"' fresh "$@"
