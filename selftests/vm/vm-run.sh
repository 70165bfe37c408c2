#!/bin/sh
# vm-run.sh: run one command in a throwaway VM and return its output and
# exit status.  A small virtme of our own:
#   - boots a Debian kernel (KVER, or VMLINUZ=...) under qemu TCG (no KVM:
#     it hangs on these machines) with a busybox initramfs built here;
#   - mounts the host root read-only over 9p and makes it the guest's root,
#     with tmpfs on /tmp, /run, /var, /root, so every host tool runs in the
#     guest; the repository is mounted again at its own path, so a clone
#     under /tmp (say) stays visible;
#   - loads tls.ko and the freshly built module (TSCF_KO, default
#     kmod/tscf.ko; a debug kernel needs the module built against its tree);
#   - runs the command from the repository root, output on our stdout;
#   - fails if the guest hangs past VM_TIMEOUT seconds, or if the kernel
#     log has a report header (WARNING:, BUG:, Oops, KASAN:, UBSAN:,
#     refcount_t:, a lockdep or RCU splat, a hung task, a device whose
#     references outlive its unregister; the lines are
#     printed) after tscf.ko was first loaded (one during the boot is
#     printed, not counted);
#   - on a kernel with kmemleak (the debug lane), scans for leaks after the
#     command and fails on any unreferenced object whose allocation
#     backtrace passes through tscf.ko.
#
# Usage: vm-run.sh [--shell] [CMD [ARGS...]]
# Env:   KVER, VMLINUZ, TSCF_KO, VM_TIMEOUT (s, default 900), VM_MEM
#        (default 2G), VM_SMP (default 2), VM_APPEND (extra kernel command
#        line), VM_KEEP (a directory to copy the guest's kernel log and
#        console to)
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
work="$top/build/vm"
mkdir -p "$work"

. "$top/selftests/vm/kver.sh"
KVER=${KVER:-$(default_kver)}
[ -n "$KVER" ] || { echo "vm-run: no kernel with modules in /boot + /lib/modules (run tools/install-deps.sh)" >&2; exit 2; }
VMLINUZ=${VMLINUZ:-/boot/vmlinuz-$KVER}
VM_TIMEOUT=${VM_TIMEOUT:-900}
[ -r "$VMLINUZ" ] || { echo "vm-run: cannot read kernel $VMLINUZ" >&2; exit 2; }
TSCF_KO=${TSCF_KO:-$top/kmod/tscf.ko}
[ -f "$TSCF_KO" ] || { echo "vm-run: $TSCF_KO not built (run make)" >&2; exit 2; }
case "$TSCF_KO" in
"$top"/*) ;;
*) echo "vm-run: TSCF_KO must be inside the repository ($top)" >&2; exit 2 ;;
esac

shell=0
if [ "${1:-}" = "--shell" ]; then
	shell=1
	shift
fi

# Modules the initramfs needs to reach the host root, in dependency order.
initrd_modules() {
	for m in virtio_pci 9pnet_virtio 9p virtio_rng; do
		modprobe -S "$KVER" --show-depends "$m" | awk '$1 == "insmod" { print $2 }'
	done | awk '!seen[$0]++'
}

build_initramfs() {
	out=$1
	stage=$(mktemp -d)
	mkdir -p "$stage/bin" "$stage/modules" "$stage/proc" "$stage/sys" \
		"$stage/dev" "$stage/host"
	cp /bin/busybox "$stage/bin/busybox"
	: > "$stage/modules/order"
	# Busybox insmod takes plain ELF only: Debian compresses modules
	# from 6.12 on (.ko.xz).
	for ko in $(initrd_modules); do
		name=$(basename "$ko")
		case "$name" in
		*.ko.xz) name=${name%.xz}; xz -dc "$ko" >"$stage/modules/$name" ;;
		*.ko.gz) name=${name%.gz}; gzip -dc "$ko" >"$stage/modules/$name" ;;
		*.ko.zst) name=${name%.zst}; zstd -qdc "$ko" >"$stage/modules/$name" ;;
		*) cp "$ko" "$stage/modules/" ;;
		esac
		echo "$name" >> "$stage/modules/order"
	done
	cp "$top/selftests/vm/init" "$stage/init"
	chmod 755 "$stage/init"
	# Two VMs may start at once (make check's two 6.1 halves): each
	# writes its own file and renames it into place whole.
	(cd "$stage" && find . | cpio -o -H newc --quiet | gzip -1) > "$out.$$.tmp"
	mv "$out.$$.tmp" "$out"
	rm -rf "$stage"
}

initrd="$work/initramfs-$KVER.cpio.gz"
if [ ! -f "$initrd" ] || [ "$top/selftests/vm/init" -nt "$initrd" ] ||
   [ "$0" -nt "$initrd" ]; then
	build_initramfs "$initrd"
fi

# The guest reads its command from the build tree (host root over 9p) and
# writes its exit status and kernel log to a writable share.
run=$(mktemp -d "$work/run.XXXXXX")
trap 'rm -rf "$run"' EXIT
mkdir -p "$run/out"
{
	echo "cd '$top'"
	if [ "$shell" = 1 ]; then
		echo "exec /bin/bash -i"
	else
		printf 'exec'
		for a in "$@"; do
			printf " '%s'" "$(printf '%s' "$a" | sed "s/'/'\\\\''/g")"
		done
		echo
	fi
} > "$run/cmd"

# A soft lockup panics the guest (with every CPU's backtrace, and the
# whole kernel log replayed on the console): a guest spinning in a
# softirq would otherwise hold two host cores until VM_TIMEOUT and starve
# the lanes beside it (CI once lost its debug lane so).  A lockup is a
# report that fails the lane anyway.
append="console=ttyS0 panic=-1 oops=panic no_timer_check tscfvm_top=$top tscfvm_run=$run"
append="$append softlockup_panic=1 softlockup_all_cpu_backtrace=1 panic_print=0x20"
append="$append tscfvm_shell=$shell tscfvm_ko=$TSCF_KO loglevel=4 ${VM_APPEND:-}"

set -- -accel tcg -nodefaults -no-reboot -display none -monitor none \
	-m "${VM_MEM:-2G}" -smp "${VM_SMP:-2}" -cpu max \
	-kernel "$VMLINUZ" -initrd "$initrd" -append "$append" \
	-fsdev local,id=hostroot,path=/,readonly=on,security_model=none,multidevs=remap \
	-device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot \
	-fsdev local,id=repo,path="$top",readonly=on,security_model=none,multidevs=remap \
	-device virtio-9p-pci,fsdev=repo,mount_tag=repo \
	-fsdev local,id=out,path="$run/out",security_model=none \
	-device virtio-9p-pci,fsdev=out,mount_tag=out \
	-device virtio-rng-pci -nic none

if [ "$shell" = 1 ]; then
	exec qemu-system-x86_64 "$@" -serial mon:stdio
fi

console="$run/console.log"
# ttyS0 carries the kernel console to a file, ttyS1 the command's output.
# The serial line ends lines with CR LF: hand on plain lines.
boot() {
	{
		rc=0
		timeout --foreground -k 5 "$VM_TIMEOUT" qemu-system-x86_64 "$@" \
			-serial "file:$console" -serial stdio </dev/null || rc=$?
		echo "$rc" > "$run/qemu.rc"
	} | sed -u 's/\r$//'
	rc=$(cat "$run/qemu.rc")
}
boot "$@"
# A guest whose kernel died before init ran (out/booted) died in Debian's
# kernel under TCG, before any code of ours or any test: CI once saw the
# 6.12 kernel double-fault 0.7 s into its boot, in kmalloc.  It is shown,
# and booted once more; a second such death fails as any other.
if [ "$rc" != 124 ] && [ ! -f "$run/out/booted" ]; then
	echo "vm-run: the guest's kernel died during its boot (qemu exit $rc), before init ran: booting once more; its console's last lines:" >&2
	tail -n 40 "$console" >&2 || true
	mv "$console" "$run/console.first-boot.log"
	boot "$@"
fi

# Kernel report headers only: a debug kernel's boot log names lockdep and
# KASAN in passing ("RCU lockdep checking is enabled").
report_re='WARNING:|BUG:|Oops|KASAN:|UBSAN:|refcount_t:|general protection fault|possible circular locking dependency|possible recursive locking|inconsistent lock state|suspicious RCU usage|sleeping function called from invalid context|INFO: task .* blocked for more than|unregister_netdevice: waiting for'

# VM_KEEP=DIR keeps the guest's kernel log and console for a later look.
keep_logs() {
	[ -n "${VM_KEEP:-}" ] || return 0
	mkdir -p "$VM_KEEP" && cp "$@" "$VM_KEEP/" 2>/dev/null || true
}

if [ ! -f "$run/out/rc" ]; then
	if [ "$rc" = 124 ]; then
		echo "vm-run: guest did not finish within ${VM_TIMEOUT}s; killed" >&2
	else
		echo "vm-run: guest died (qemu exit $rc) before the command finished" >&2
	fi
	keep_logs "$console"
	echo "vm-run: last kernel console lines:" >&2
	tail -n 40 "$console" >&2 || true
	# Then the first report or RCU stall, with what follows it: a guest
	# that hangs repeats its stall warnings until the console's tail is
	# nothing else.
	first=$(grep -n -m 1 -E "$report_re|rcu: INFO:" "$console" | cut -d: -f1)
	if [ -n "$first" ]; then
		echo "vm-run: the first report on the console:" >&2
		sed -n "${first},$((first + 80))p" "$console" >&2
	fi
	exit 1
fi

status=$(cat "$run/out/rc")
# A report logged before tscf.ko was first loaded comes from the boot,
# where no code of ours has run (the debug kernel under TCG has tripped
# KASAN once in an early interrupt, in get_cpu_cap): shown, not counted.
loaded=$(grep -n -m 1 'tscf: TSCF tunnel driver .* loaded' "$run/out/dmesg" | cut -d: -f1)
boot=""
if [ -n "$loaded" ]; then
	boot=$(head -n "$loaded" "$run/out/dmesg" | grep -n -A 30 -E "$report_re" | head -n 200 || true)
	bad=$(tail -n "+$loaded" "$run/out/dmesg" | grep -E "$report_re" || true)
else
	bad=$(grep -E "$report_re" "$run/out/dmesg" || true)
fi
keep_logs "$run/out/dmesg" "$console"
if [ -n "$boot" ]; then
	echo "vm-run: reports during the boot, before tscf.ko was loaded (not counted):" >&2
	printf '%s\n' "$boot" >&2
fi
if [ -n "$bad" ]; then
	# The log's tail first, then each report with the lines after it:
	# a CI page that keeps only the end of the output still shows the
	# report, not the last test's chatter.
	echo "vm-run: kernel log tail:" >&2
	tail -n 40 "$run/out/dmesg" >&2
	echo "vm-run: kernel log has reports (each with 30 lines after it):" >&2
	grep -n -A 30 -E "$report_re" "$run/out/dmesg" | head -n 400 >&2 || true
	echo "vm-run: the report lines:" >&2
	printf '%s\n' "$bad" >&2
	[ "$status" = 0 ] && status=1
fi
# The file exists when the guest's kernel has kmemleak and the scan ran
# (empty: nothing unreferenced); say so either way.
if [ -f "$run/out/kmemleak" ]; then
	# A leak report is attributed to tscf when its allocation backtrace
	# passes through the module.
	leaks=$(awk '/^unreferenced object/ { if (blk ~ /\[tscf\]/) n++; blk = "" }
		{ blk = blk "\n" $0 }
		END { if (blk ~ /\[tscf\]/) n++; print n + 0 }' "$run/out/kmemleak")
	total=$(grep -c '^unreferenced object' "$run/out/kmemleak" || true)
	echo "vm-run: kmemleak: $total unreferenced objects, $leaks from tscf" >&2
	if [ "$leaks" != 0 ]; then
		cat "$run/out/kmemleak" >&2
		[ "$status" = 0 ] && status=1
	fi
fi
exit "$status"
