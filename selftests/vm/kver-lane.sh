#!/bin/sh
# kver-lane.sh: the kernel suite on another installed kernel than the
# default one, e.g. Debian 13's 6.12 beside Debian 12's 6.1.
#   kver-lane.sh KVER [TEST...]     default: every test in selftests/kernel
# KVER is a release (6.12.117+deb12-amd64) or a version prefix (6.12: the
# newest installed release that starts with "6.12.").  Builds tscf.ko
# against it in build/kmod-<release>/ (the stock build in kmod/ stays as
# it is), then runs the tests in the VM booted on that kernel.
# Env: KDIR (default /lib/modules/<release>/build), VMLINUZ (default
#      /boot/vmlinuz-<release>), and vm-run.sh's VM_TIMEOUT, VM_MEM...
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"

[ $# -ge 1 ] || { echo "usage: kver-lane.sh KVER [TEST...]" >&2; exit 2; }
want=$1
shift

if [ -d "/lib/modules/$want/kernel" ]; then
	rel=$want
else
	rel=$(ls -1 /lib/modules 2>/dev/null | grep -F -- "$want." | grep -v -- -tscfdbg |
		while read -r k; do
			case "$k" in "$want".*) [ -d "/lib/modules/$k/kernel" ] && echo "$k" ;; esac
		done | sort -rV | head -n 1)
fi
[ -n "$rel" ] || {
	echo "kver-lane: no kernel $want in /lib/modules (tools/install-deps.sh installs Debian's 6.12)" >&2
	exit 2
}
KDIR=${KDIR:-/lib/modules/$rel/build}
VMLINUZ=${VMLINUZ:-/boot/vmlinuz-$rel}
[ -f "$KDIR/Makefile" ] || { echo "kver-lane: no build tree for $rel at $KDIR (install its headers)" >&2; exit 2; }
[ -r "$VMLINUZ" ] || { echo "kver-lane: cannot read kernel image $VMLINUZ" >&2; exit 2; }

out="$top/build/kmod-$rel"
mkdir -p "$out"
# Two lanes on one kernel may run at once (test chunks): each run holds a
# shared lock until its VM is done; a build (only when the sources or the
# kernel tree changed) takes it alone, so it never replaces the module
# under a running guest.
exec 9>"$out.lock"
srcs=$(find kmod uapi tools/lib Kbuild -type f \( -name '*.[ch]' -o -name Kbuild \) ! -name '*.mod.c' | sort)
stamp=$(printf '%s\n' "$KDIR" | cat - $srcs | sha256sum | cut -c1-16)
built() { [ -f "$out/kmod/tscf.ko" ] && [ "$(cat "$out/stamp" 2>/dev/null)" = "$stamp" ]; }
flock -s 9
if ! built; then
	flock 9
fi
if ! built; then
	rm -rf "$out/kmod" "$out/uapi" "$out/tools" "$out/stamp"
	# A copy of the module's sources: Kbuild writes its objects beside them.
	printf '%s\n' $srcs | tar -cf - -T - | tar -C "$out" -xpf -
	make -s -C "$KDIR" M="$out" W=1 modules >"$out/build.log" 2>&1 || {
		cat "$out/build.log" >&2; echo "kver-lane: module build for $rel failed" >&2; exit 1; }
	# W=1 clean on every kernel we support: a warning fails the lane.
	if grep -E 'warning:' "$out/build.log" >&2; then
		echo "kver-lane: module build for $rel has warnings" >&2
		exit 1
	fi
	echo "$stamp" >"$out/stamp"
	echo "kver-lane: tscf.ko built for $rel" >&2
fi
flock -s 9
echo "kver-lane: running the tests on $rel" >&2

[ $# -gt 0 ] || set -- selftests/kernel
KVER=$rel
export KVER VMLINUZ
TSCF_KO="$out/kmod/tscf.ko" VM_TIMEOUT=${VM_TIMEOUT:-2700} \
	exec sh selftests/vm/vm-run.sh sh selftests/run-tests.sh "$@"
