#!/bin/sh
# Installs the Debian packages httpeek needs to build, run and test; installs only what is missing.
set -eu
PACKAGES="make gcc clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libpcap-dev libnghttp2-dev
libcapstone-dev pkg-config libcmocka-dev golang-go python3 python3-yaml python3-prometheus-client
python3-scapy iproute2 tcpdump tshark nginx-light curl wrk httpry hyperfine procps openssl
prometheus systemd nghttp2-client nghttp2-server nghttp2-proxy python3-grpcio python3-h2"

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages:$missing (run as root to install them)" >&2
	exit 1
fi
echo "deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
