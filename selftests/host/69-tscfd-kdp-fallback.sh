#!/bin/sh
# kernel-datapath without tscf.ko (the host cannot load it): "auto" (the
# default) serves clear UDP tunnels in userspace and says so, "yes" does
# not start and says why, "no" never asks; tscfd -t refuses a bad value or
# device name.  The kernel side is selftests/kernel/58-srv-kdp.sh.
. "$TSCF_TOP/selftests/lib.sh"
[ -x "$TSCFD" ] || fail "server/tscfd not built"
[ -d /sys/module/tscf ] && fail "tscf.ko is loaded here: this test needs a kernel without it"
TMPD=$(mktemp -d)
at_exit "rm -rf $TMPD"
ue_srv_link kdpfb
make_certs "$TMPD"
CHECKS_FAILED=0

# run MODE: tscfd in SRV with kernel-datapath MODE; its log in $TMPD/MODE.log.
run() {
	tscfd_conf "$TMPD/$1.conf" "$TMPD" ""
	sed -i "s/^kernel-datapath .*/kernel-datapath $1/" "$TMPD/$1.conf"
	ip netns exec "$SRV" "$TSCFD" -c "$TMPD/$1.conf" > "$TMPD/$1.log" 2>&1 &
	TSCFD_PID=$!
	at_exit "kill $TSCFD_PID 2>/dev/null"
}

run auto
wait_for 10 grep -q ready "$TMPD/auto.log" || fail "auto: tscfd did not start: $(cat "$TMPD/auto.log")"
grep -q 'kernel data path not available (no tscf module): clear UDP tunnels in userspace' "$TMPD/auto.log" ||
	check "auto: no fallback message: $(cat "$TMPD/auto.log")"
got=$(ip netns exec "$SRV" "$TSCFD" --stats -s "$TMPD/tscfd.sock" | awk '$1 == "kernel_datapath:" { print $2 }')
expect_eq "auto: kernel_datapath" "$got" 0
ip -n "$SRV" link show tscfsrv0 > /dev/null 2>&1 && check "auto: a server device without the module"
# A session still works, in userspace.
ip -n "$SRV" link set tscfs0 up
reply=$(ip netns exec "$UE" $TSCF_CLIENT basic --transport udp --addr 10.10.0.2 --port 4000 2>&1) ||
	check "auto: no session in userspace: $reply"
kill $TSCFD_PID
wait $TSCFD_PID 2>/dev/null

run yes
wait_for 10 sh -c "! kill -0 $TSCFD_PID 2>/dev/null" || check "yes: tscfd runs without the module"
wait $TSCFD_PID && check "yes: tscfd exited 0 without the module"
grep -q 'kernel-datapath yes: cannot create server device tscfsrv0: the tscf module is not loaded' "$TMPD/yes.log" ||
	check "yes: no clear message: $(cat "$TMPD/yes.log")"
grep -q ready "$TMPD/yes.log" && check "yes: said ready"

run no
wait_for 10 grep -q ready "$TMPD/no.log" || fail "no: tscfd did not start: $(cat "$TMPD/no.log")"
grep -q 'kernel data path' "$TMPD/no.log" && check "no: tscfd looked for the kernel path: $(cat "$TMPD/no.log")"
kill $TSCFD_PID
wait $TSCFD_PID 2>/dev/null

tscfd_conf "$TMPD/bad.conf" "$TMPD" ""
sed -i "s/^kernel-datapath .*/kernel-datapath maybe/" "$TMPD/bad.conf"
out=$("$TSCFD" -t -c "$TMPD/bad.conf" 2>&1) && check "-t accepted kernel-datapath maybe"
echo "$out" | grep -q 'kernel-datapath: want auto, yes or no' || check "-t message: $out"
tscfd_conf "$TMPD/bad2.conf" "$TMPD" ""
echo "kernel-device bad/name" >> "$TMPD/bad2.conf"
out=$("$TSCFD" -t -c "$TMPD/bad2.conf" 2>&1) && check "-t accepted kernel-device bad/name"
echo "$out" | grep -q "kernel-device: 'bad/name' is not a valid interface name" || check "-t message: $out"
checks_done
echo ok
