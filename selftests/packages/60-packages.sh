#!/bin/sh
# The Debian packages (make deb, on the host, into build/deb) install and
# run as an operator would use them: dpkg installs tscf-dkms, tscf-tools and
# tscfd (dkms builds tscf.ko for the running kernel; check.sh runs that part
# natively on the host first, selftests/lib/pkg-host-install.sh, and this
# test then finds them installed), modprobe loads the
# dkms-built module, tscfd starts from /etc/tscf/tscfd.conf as
# tscfd.service would (its Exec lines, user and capabilities, read from
# the installed unit), a client starts from /etc/tscf/tscf0.conf as
# tscf@tscf0 would, traffic passes, the metrics are scraped, and the
# installed dissector decodes a capture of the outer link.
#
# The guest's root is the host's, read-only: /usr, /etc, /var/lib/dpkg and
# /var/lib/dkms get overlays with tmpfs upper layers, so dpkg writes only
# into guest memory.
. "$TSCF_TOP/selftests/lib.sh"
[ "${TSCF_IN_VM:-}" = 1 ] || fail "60-packages installs packages: run it in the VM (vm-run.sh)"
DEB=$TSCF_TOP/build/deb
for p in tscf-dkms tscf-tools tscfd; do
	ls "$DEB/${p}_"*.deb >/dev/null 2>&1 ||
		fail "no $DEB/${p}_*.deb: run 'make deb' on the host first"
done

# --- writable system directories -----------------------------------------
O=/tmp/pkgroot
mkdir -p $O/host
mount --bind / $O/host	# the host root without the guest's tmpfs mounts
overlay() {	# overlay DIR LOWER
	mkdir -p "$O/up$1" "$O/work$1" "$1"
	mount -t overlay overlay -o "lowerdir=$2,upperdir=$O/up$1,workdir=$O/work$1" "$1" ||
		fail "cannot overlay $1"
}
overlay /usr /usr
overlay /etc /etc
overlay /var/lib/dpkg $O/host/var/lib/dpkg
[ -d $O/host/var/lib/dkms ] && overlay /var/lib/dkms $O/host/var/lib/dkms
mkdir -p /var/log /var/cache /var/lib/systemd
# The guest plays a machine that has the one kernel it booted: dkms's
# postinst builds for the running kernel and for the newest one with a
# config in /boot, and the host's /boot may hold another (6.12, for its
# lane): one compile under TCG, not two.
mkdir -p $O/boot
cp "/boot/config-$(uname -r)" $O/boot/ 2>/dev/null || true
mount --bind $O/boot /boot || fail "cannot hide the host's /boot"
touch /etc/.tscf-overlay-probe && [ ! -e "$O/host/etc/.tscf-overlay-probe" ] ||
	fail "overlay on /etc does not protect the host"

# What udev does on a real system: /dev/fd (dkms's bash uses <(...)) and
# /dev/net/tun open to all (50-udev-default.rules; devtmpfs makes it 0600),
# which tscfd, not root under its unit, opens.
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
chmod 0666 /dev/net/tun

# --- install ---------------------------------------------------------------
# installed PKG: PKG is installed at the version of its .deb.
installed() {
	[ "$(dpkg-query -W -f='${Status} ${Version}' "$1" 2>/dev/null)" = \
	  "install ok installed $(dpkg-deb -f "$DEB/$1"_*.deb Version)" ]
}
# The list is in the host's /var, which the guest's own /var (a tmpfs)
# hides: read it through the bind of the host root.
if [ -f $O/host/var/lib/tscf-pkg-host-install ] &&
   (cd "$DEB" && sha256sum --quiet -c $O/host/var/lib/tscf-pkg-host-install) >/dev/null 2>&1; then
	# check.sh's packages lane: pkg-host-install.sh ran dpkg -i of these
	# very .debs (and dkms's build) natively for this kernel, and this VM
	# sees that system.
	log "the packages were installed by pkg-host-install.sh"
else
	t0=$(date +%s)
	DEBIAN_FRONTEND=noninteractive dpkg -i "$DEB"/tscf-dkms_*.deb "$DEB"/tscf-tools_*.deb "$DEB"/tscfd_*.deb \
		> /tmp/dpkg.log 2>&1 || fail "dpkg -i: $(tail -30 /tmp/dpkg.log)"
	log "dpkg -i with the dkms build: $(( $(date +%s) - t0 )) s"
fi
for p in tscf-dkms tscf-tools tscfd; do
	installed $p || fail "$p not installed at the version of its .deb"
done
getent passwd tscfd >/dev/null || fail "postinst did not create the user tscfd"

# The dkms module replaces the one the VM loaded from the build tree.
rmmod tscf 2>/dev/null || true
[ -d /sys/module/tscf ] && fail "cannot unload the build tree's tscf.ko"
ko=$(modinfo -n tscf) || fail "modinfo tscf: no module"
case "$ko" in
/lib/modules/$(uname -r)/updates/dkms/tscf.ko*) ;;
*) fail "modinfo -n tscf is $ko, not dkms's" ;;
esac
modprobe tscf || fail "modprobe tscf"
[ "$(cat /sys/module/tscf/version)" = "$(dpkg-query -W -f='${Version}' tscf-dkms)" ] ||
	check "loaded module version $(cat /sys/module/tscf/version) is not the package's"

# --- units -------------------------------------------------------------------
# exec_lines UNIT KEY INSTANCE: KEY's command lines, %i expanded.
exec_lines() {
	sed -n "s/^$2=//p" "/lib/systemd/system/$1" | sed "s/%i/$3/g"
}
# run_exec NS LINE [WRAPPER...]: one Exec line as systemd runs it: "-"
# ignores its failure, "+" runs it with full privileges (no wrapper).
run_exec() {
	ns=$1 line=$2
	shift 2
	ignore=0
	while :; do
		case "$line" in
		-*) ignore=1; line=${line#-} ;;
		+*) set --; line=${line#+} ;;
		@* | !* | :*) line=${line#?} ;;
		*) break ;;
		esac
	done
	# shellcheck disable=SC2086
	ip netns exec "$ns" "$@" $line && return 0
	[ $ignore = 1 ]
}
unit_value() { sed -n "s/^$2=//p" "/lib/systemd/system/$1" | tail -1; }

ue_srv_link pkg
ip netns exec "$UE" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
make_certs /etc/tscf
chgrp tscfd /etc/tscf/server.key && chmod 640 /etc/tscf/server.key
cat > /etc/tscf/tscfd.conf <<CONF
tun-name tscfs0
control-socket /run/tscfd/tscfd.sock
metrics-listen 127.0.0.1:9464

tscf-interface
    address 10.10.0.2
    port 4464                   # the dissector's default port
    certificate /etc/tscf/server.pem
    private-key /etc/tscf/server.key
    local-address-pool-v4 10.100.0.0/16
    dns 10.100.0.1
    assigned-services DTTE
CONF

# tscfd.service: RuntimeDirectory, User, Group, AmbientCapabilities.
U=tscfd.service
user=$(unit_value $U User)
group=$(unit_value $U Group)
caps=$(unit_value $U AmbientCapabilities | tr 'A-Z' 'a-z' | sed 's/cap_/+/g; s/ /,/g')
rundir=/run/$(unit_value $U RuntimeDirectory)
install -d -o "$user" -g "$group" -m "$(unit_value $U RuntimeDirectoryMode)" "$rundir"
AS_UNIT="setpriv --reuid=$user --regid=$group --init-groups --inh-caps=$caps --ambient-caps=$caps"
exec_lines $U ExecStartPre "" | while read -r line; do
	run_exec "$SRV" "$line" $AS_UNIT || fail "$U: ExecStartPre=$line failed"
done
# Type=notify: tscfd says READY=1 on $NOTIFY_SOCKET.
NOTIFY=/run/tscfd-notify.sock
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
import os; os.chmod(sys.argv[1], 0o777)
print("listening", flush=True)
while True:
    print(s.recv(4096).decode().replace("\n", " "), flush=True)' $NOTIFY > /tmp/notify.log 2>&1 &
at_exit "kill $! 2>/dev/null"
wait_for 10 grep -q listening /tmp/notify.log || fail "notify listener did not start"
start=$(exec_lines $U ExecStart "")
line=${start#[-+@!:]}
# shellcheck disable=SC2086
ip netns exec "$SRV" env NOTIFY_SOCKET=$NOTIFY $AS_UNIT $line > /tmp/tscfd.log 2>&1 &
TSCFD_PID=$!
at_exit "kill $TSCFD_PID 2>/dev/null"
wait_for 20 test -S "$rundir/tscfd.sock" || fail "tscfd did not start: $(cat /tmp/tscfd.log)"
wait_for 10 grep -q 'READY=1' /tmp/notify.log ||
	check "tscfd sent no READY=1: $(cat /tmp/notify.log)"
[ "$(stat -c %U /proc/$TSCFD_PID)" = "$user" ] || check "tscfd does not run as $user"
# Older tscfd leaves the TUN's address to the host.
ip -n "$SRV" -4 addr show dev tscfs0 | grep -q 10.100.0.1 ||
	ip -n "$SRV" addr add 10.100.0.1/16 dev tscfs0
ip -n "$SRV" link set tscfs0 up
ip netns exec "$SRV" python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.100.0.1", 7000))
while True:
    data, peer = s.recvfrom(65536)
    s.sendto(b"echo:" + data, peer)' &
at_exit "kill $! 2>/dev/null"
wait_for 20 sh -c "ip netns exec $SRV ss -Hlun | grep -q '10.100.0.1:7000'" ||
	fail "the echo service did not start"

capture_start "$SRV" veth-srv /tmp/pkg.pcapng
cap=$CAPTURE

# tscf@tscf0.service, as root (no User=).
cat > /etc/tscf/tscf0.conf <<CONF
# written as an operator would
server 10.10.0.2
port 4464
transport udp
ca /etc/tscf/ca.pem
CONF
C=tscf@.service
mkdir -p /run/$(unit_value $C RuntimeDirectory)
exec_lines $C ExecStartPre tscf0 | while read -r line; do
	run_exec "$UE" "$line" || fail "$C: ExecStartPre=$line failed"
done
ip -n "$UE" link show dev tscf0s >/dev/null || fail "ExecStartPre did not create tscf0/tscf0s"
start=$(exec_lines $C ExecStart tscf0)
# shellcheck disable=SC2086
ip netns exec "$UE" ${start#[-+@!:]} > /tmp/ctl.log 2>&1 &
CTL_PID=$!
at_exit "kill $CTL_PID 2>/dev/null"
tunnel_up() {
	ip netns exec "$UE" tscfctl show tscf0 -j | python3 -c '
import json, sys
d = json.load(sys.stdin)
devs = d["devices"] if isinstance(d, dict) and "devices" in d else d
dev = devs[0] if isinstance(devs, list) else devs
sys.exit(0 if dev["tunnel"]["state"] == "up" else 1)'
}
wait_for 30 tunnel_up || fail "tscf@tscf0: no tunnel: $(cat /tmp/ctl.log; ip netns exec "$UE" tscfctl show tscf0 -j)"
got=$(udp_echo "$UE" 10.100.0.1 7000 PKG-PLAIN) || check "no echo through tscf0"
expect_eq "echo through the packaged client and server" "$got" "echo:PKG-PLAIN"
ip netns exec "$UE" ping -c 2 -i 0.2 -W 2 10.100.0.1 >/dev/null || check "ping through tscf0"

# --- metrics -----------------------------------------------------------------
ip netns exec "$SRV" tscfd --stats --format openmetrics -c /etc/tscf/tscfd.conf > /tmp/om.txt 2>&1 ||
	check "tscfd --stats --format openmetrics: $(cat /tmp/om.txt)"
tail -n 1 /tmp/om.txt | grep -qx '# EOF' || check "openmetrics text does not end with # EOF"
grep -Eq '^tscfd_[a-z_]+_total(\{[^}]*\})? [1-9]' /tmp/om.txt || check "no nonzero tscfd_*_total counter: $(head -20 /tmp/om.txt)"
ip netns exec "$SRV" python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", 9464), timeout=5)
s.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
data = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    data += b
sys.stdout.write(data.decode())' > /tmp/http.txt 2>&1 || check "GET /metrics: $(cat /tmp/http.txt)"
head -n 1 /tmp/http.txt | grep -q '^HTTP/1\.[01] 200' || check "GET /metrics: $(head -n 3 /tmp/http.txt)"
grep -q '^# EOF' /tmp/http.txt || check "GET /metrics: no # EOF"

# --- stop as the units would --------------------------------------------------
exec_lines $C ExecStop tscf0 | while read -r line; do
	run_exec "$UE" "$line" || check "$C: ExecStop=$line failed"
done
wait_for 10 sh -c "! kill -0 $CTL_PID 2>/dev/null" || check "tscfctl down did not stop the helper"
exec_lines $C ExecStopPost tscf0 | while read -r line; do
	run_exec "$UE" "$line" || check "$C: ExecStopPost=$line failed"
done
ip -n "$UE" link show dev tscf0 >/dev/null 2>&1 && check "ExecStopPost left tscf0"
reload=$(exec_lines $U ExecReload "" | sed "s/\$MAINPID/$TSCFD_PID/")
run_exec "$SRV" "$reload" || check "$U: ExecReload failed"
wait_for 10 grep -q 'RELOADING=1' /tmp/notify.log || check "no RELOADING=1 on reload"
kill -0 $TSCFD_PID || check "tscfd died on reload: $(tail -5 /tmp/tscfd.log)"
kill $TSCFD_PID
capture_stop "$cap"

# --- the installed dissector ---------------------------------------------------
LUA=/usr/share/tscf/wireshark/tscf.lua
if [ -f $LUA ]; then
	# The protocol's filter name, as the dissector registers it (Wireshark
	# has a "tscf" of its own, IEEE 1722's): what the script adds.
	tshark -G protocols 2>/dev/null | cut -f3 | sort > /tmp/protos.builtin
	proto=$(tshark -G protocols -X lua_script:$LUA 2>/dev/null | cut -f3 | sort |
		comm -13 /tmp/protos.builtin - | grep '^tscf' | head -n 1)
	[ -n "$proto" ] || check "the installed dissector registers no tscf protocol"
	n=$(tshark -X lua_script:$LUA -r /tmp/pkg.pcapng -Y "${proto:-tscf}" 2>/tmp/tshark.err | wc -l)
	[ "$n" -gt 0 ] || check "the installed dissector decoded no $proto frame: $(cat /tmp/tshark.err)"
	log "dissector: $n frames of protocol '$proto'"
else
	check "$LUA not installed (tscf-tools without the dissector)"
fi
checks_done
echo ok
