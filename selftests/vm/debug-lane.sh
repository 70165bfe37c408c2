#!/bin/sh
# debug-lane.sh: the kernel suite on the debug kernel (KASAN, lockdep,
# PROVE_RCU, DEBUG_ATOMIC_SLEEP, kmemleak, UBSAN, DEBUG_NET).
#   debug-lane.sh [TEST...]     default: every test in selftests/kernel
# Builds (once, cached outside the tree) the kernel with debug-kernel.sh,
# builds tscf.ko against it in build/kmod-<release>/ (the stock build in
# kmod/ stays as it is), and runs the tests in the VM on it.  The VM runner
# fails the run on any kernel report and on kmemleak leaks from tscf.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"

vars=$(sh selftests/vm/debug-kernel.sh)
eval "$vars"
out="$top/build/kmod-$KVER"
mkdir -p "$out"
# A copy of the module's sources: Kbuild writes its objects beside them.
rm -rf "$out/kmod" "$out/uapi" "$out/tools"
find kmod uapi tools/lib -type f \( -name '*.[ch]' -o -name Kbuild \) |
	tar -cf - -T - | tar -C "$out" -xpf -
cp -p Kbuild "$out/"
make -s -C "$KDIR" M="$out" modules >"$out/build.log" 2>&1 || {
	cat "$out/build.log" >&2; echo "debug-lane: module build failed" >&2; exit 1; }

[ $# -gt 0 ] || set -- selftests/kernel
export KVER VMLINUZ
# loglevel=5: a stall's or a hang's stack traces (default message level)
# reach the console too, which is all there is of a guest that hangs.
# pci=noacpi: the debug kernel's AML interpreter runs each PCI slot's
# _PRT into ACPI's 30-second loop timeout under TCG (two minutes of boot
# for four devices); the BIOS's PIRQ table routes the same interrupts.
TSCF_KO="$out/kmod/tscf.ko" VM_MEM=${VM_MEM:-3G} VM_TIMEOUT=${VM_TIMEOUT:-3000} \
	VM_APPEND=${VM_APPEND:-"loglevel=5 pci=noacpi"} exec sh selftests/vm/vm-run.sh sh selftests/run-tests.sh "$@"
