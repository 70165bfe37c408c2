#!/bin/sh
# debug-kernel.sh: build, once, a debug kernel for the VM suite and print the
# variables that select it (KVER=..., VMLINUZ=..., KDIR=...).
#
# Debian's linux-source-6.1 with a trimmed config (x86_64 defconfig +
# kvm_guest.config + what the suite loads) and KASAN, PROVE_LOCKING,
# PROVE_RCU, DEBUG_ATOMIC_SLEEP, DEBUG_PREEMPT, KMEMLEAK, UBSAN, DEBUG_NET.
# The build lives outside the repository in $TSCF_CACHE (default
# /opt/tscf-cache: not under /var, /tmp, /run or /root, which the VM hides
# behind tmpfs); its modules go to /lib/modules/<release> so that modprobe in
# the VM (host root over 9p) finds them.  A stamp records the config
# script's hash: change the config and the kernel is rebuilt.
# About 11 minutes on 2 cores; seconds when cached.
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
cache=${TSCF_CACHE:-/opt/tscf-cache}
src_tar=/usr/src/linux-source-6.1.tar.xz
tree="$cache/linux-dbg"
conf="$top/selftests/vm/debug-kernel-config.sh"
want=$(cat "$conf" "$0" | sha256sum | cut -c1-16)

say() { echo "debug-kernel: $*" >&2; }

if [ -f "$tree/.tscf-stamp" ] && [ "$(cat "$tree/.tscf-stamp")" = "$want" ] &&
   [ -f "$tree/arch/x86/boot/bzImage" ]; then
	rel=$(cat "$tree/include/config/kernel.release")
	if [ -d "/lib/modules/$rel/kernel" ]; then
		echo "KVER=$rel VMLINUZ=$tree/arch/x86/boot/bzImage KDIR=$tree"
		exit 0
	fi
fi

[ -r "$src_tar" ] || { say "no $src_tar (apt-get install linux-source-6.1)"; exit 2; }
for t in bc bison flex; do
	command -v $t >/dev/null || { say "missing $t (tools/install-deps.sh)"; exit 2; }
done

start=$(date +%s)
say "building a debug kernel in $tree (about 11 minutes on 2 cores)"
rm -rf "$tree"
mkdir -p "$cache"
tmp=$(mktemp -d "$cache/unpack.XXXXXX")
tar -C "$tmp" -xf "$src_tar"
mv "$tmp"/linux-source-6.1 "$tree"
rmdir "$tmp"
cd "$tree"
sh "$conf" >/dev/null
jobs=$(nproc)
make -s -j"$jobs" bzImage modules >"$cache/build.log" 2>&1 || {
	tail -n 40 "$cache/build.log" >&2; say "kernel build failed"; exit 1; }
rel=$(cat include/config/kernel.release)
rm -rf "/lib/modules/$rel"
make -s INSTALL_MOD_STRIP=1 modules_install >>"$cache/build.log" 2>&1
# The module build needs the tree itself as KDIR; modules_install points
# /lib/modules/$rel/build at it already.
echo "$want" > .tscf-stamp
say "built $rel in $(( $(date +%s) - start ))s"
echo "KVER=$rel VMLINUZ=$tree/arch/x86/boot/bzImage KDIR=$tree"
