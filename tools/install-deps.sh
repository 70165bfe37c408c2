#!/bin/sh
# Install, only when missing, every Debian package tscf needs to build,
# test and demo.  Safe to run repeatedly; prints what it installs.
# Kernels: Debian 12's default (linux-image-amd64, 6.1) and Debian 13's
# 6.12 for the kernel-612 lane (the linux-*-6.12-amd64 metapackages follow
# the newest 6.12 in bookworm-security; dwarves gives pahole, which the 6.12
# headers need to build a module's BTF).  The 6.1 stays the default kernel
# to build for and boot (Makefile, KVER).  --with-612 is accepted for
# older scripts; it changes nothing.
set -eu

PKGS="
build-essential
pkg-config
kmod
cpio
busybox-static
iproute2
qemu-system-x86
linux-image-amd64
linux-headers-amd64
linux-image-6.12-amd64
linux-headers-6.12-amd64
dwarves
libnl-3-dev
libnl-genl-3-dev
libnl-route-3-dev
libssl-dev
openssl
sparse
clang
libclang-rt-14-dev
python3
iputils-ping
iperf3
ethtool
tshark
nftables
wireguard-tools
openvpn
sockperf
gnuplot-nox
sip-tester
linux-source-6.1
linux-source-6.12
python3-yaml
python3-jsonschema
bc
bison
flex
libelf-dev
xz-utils
dpkg-dev
fakeroot
debhelper
dh-dkms
dkms
pandoc
man-db
systemd
"

case "${1:-}" in
"" | --with-612) ;;
*) echo "usage: install-deps.sh" >&2; exit 2 ;;
esac

missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done

if [ -z "$missing" ]; then
	echo "install-deps: all packages present"
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages:$missing" >&2
	echo "install-deps: run as root (or: sudo apt-get install$missing)" >&2
	exit 1
fi

echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
