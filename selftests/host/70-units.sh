#!/bin/sh
# The systemd units as "make install" installs them pass
# "systemd-analyze verify" (unit syntax, every Exec path executable, the
# Documentation= man pages found among the installed pages): the units are
# verified from a copy whose /usr/sbin/ paths point into the staging root.
# The verifier must also reject a broken unit (else this test proves
# nothing), the unit's user must be the one sysusers.d creates, and
# PREFIX reaches the installed units' paths.
. "$TSCF_TOP/selftests/lib.sh"
command -v systemd-analyze >/dev/null || fail "systemd-analyze missing (apt-get install systemd)"
T=$(mktemp -d)
at_exit "rm -rf $T"
# The source tree itself, also from the sanitizer lane's mirror of links
# (whose programs are wrappers that make must not rebuild).
SRC=$(dirname "$(readlink -f "$TSCF_TOP/Makefile")")
cd "$SRC"
make -s install DESTDIR="$T/root" PREFIX=/usr >"$T/install.log" 2>&1 ||
	fail "make install: $(tail -20 "$T/install.log")"
units=$T/root/usr/lib/systemd/system
mkdir "$T/verify"

# verify UNIT...: no complaint at all, warnings included.
verify() {
	MANPATH=$T/root/usr/share/man systemd-analyze verify "$@" >"$T/verify.log" 2>&1 &&
		[ ! -s "$T/verify.log" ]
}

for u in tscfd.service tscf@.service; do
	[ -f "$units/$u" ] || fail "$u not installed"
	sed "s|/usr/sbin/|$T/root/usr/sbin/|g" "$units/$u" > "$T/verify/$u"
done
verify "$T/verify/tscfd.service" "$T/verify/tscf@tscf0.service" ||
	check "units do not verify: $(cat "$T/verify.log")"

# The agreed command lines.
grep -qx 'ExecStart=/usr/sbin/tscfd -c /etc/tscf/tscfd.conf' "$units/tscfd.service" ||
	check "tscfd.service: ExecStart is not 'tscfd -c /etc/tscf/tscfd.conf'"
grep -qx 'ExecStartPre=/usr/sbin/tscfd -t -c /etc/tscf/tscfd.conf' "$units/tscfd.service" ||
	check "tscfd.service: no configuration check before the start"
grep -qx 'Type=notify' "$units/tscfd.service" || check "tscfd.service: not Type=notify"
grep -qx 'ExecStart=/usr/sbin/tscfctl up %i -c /etc/tscf/%i.conf' "$units/tscf@.service" ||
	check "tscf@.service: ExecStart is not 'tscfctl up %i -c /etc/tscf/%i.conf'"
grep -qx 'ExecStop=/usr/sbin/tscfctl down %i' "$units/tscf@.service" ||
	check "tscf@.service: ExecStop is not 'tscfctl down %i'"

# The user the server runs as is the one sysusers.d creates.
user=$(sed -n 's/^User=//p' "$units/tscfd.service")
awk -v u="$user" '$1 == "u" && $2 == u { found = 1 } END { exit !found }' \
	"$T/root/usr/lib/sysusers.d/tscfd.conf" ||
	check "tscfd.service runs as '$user', which sysusers.d/tscfd.conf does not create"

# The verifier catches a missing program and an unknown setting.
sed 's|^ExecStart=.*|ExecStart=/nonexistent/tscfd|' "$T/verify/tscfd.service" > "$T/bad1.service"
verify "$T/bad1.service" && check "verify accepted a unit whose program does not exist"
{ cat "$T/verify/tscfd.service"; printf '[Service]\nNoSuchSetting=1\n'; } > "$T/bad2.service"
verify "$T/bad2.service" && check "verify accepted a unit with an unknown setting"

# Another PREFIX: the units name the programs where they are.
make -s install DESTDIR="$T/local" PREFIX=/usr/local >>"$T/install.log" 2>&1 ||
	fail "make install PREFIX=/usr/local: $(tail -20 "$T/install.log")"
grep -q '^ExecStart=/usr/local/sbin/tscfd ' "$T/local/usr/local/lib/systemd/system/tscfd.service" ||
	check "PREFIX=/usr/local: tscfd.service does not run /usr/local/sbin/tscfd"
[ -x "$T/local/usr/local/sbin/tscfd" ] || check "PREFIX=/usr/local: no /usr/local/sbin/tscfd"

# The shipped server configuration is valid.
"$TSCF_TOP/server/tscfd" -t -c "$T/root/etc/tscf/tscfd.conf" >/dev/null 2>"$T/t.err" ||
	check "the installed tscfd.conf does not pass tscfd -t: $(cat "$T/t.err")"
checks_done
echo ok
