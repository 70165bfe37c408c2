#!/bin/sh
# "make install" puts every file where the agreed paths say, keeps an
# operator's configuration, and the installed tscf-exec finds the installed
# preload library; "make install-dkms" makes a source tree from which
# dkms builds tscf.ko (dkms's own build, in a private dkms tree, for the
# kernel the module is built for) and "make modules_install" honours
# INSTALL_MOD_PATH; the version is the same in dkms.conf,
# debian/changelog and the module.
. "$TSCF_TOP/selftests/lib.sh"
T=$(mktemp -d)
at_exit "rm -rf $T"
SRC=$(dirname "$(readlink -f "$TSCF_TOP/Makefile")")
cd "$SRC"

# An operator's edited configuration is never overwritten.
mkdir -p "$T/root/etc/tscf"
echo "# mine" > "$T/root/etc/tscf/tscfd.conf"
make -s install DESTDIR="$T/root" PREFIX=/usr >"$T/install.log" 2>&1 ||
	fail "make install: $(tail -20 "$T/install.log")"
expect_eq "existing tscfd.conf" "$(cat "$T/root/etc/tscf/tscfd.conf")" "# mine"
for f in usr/sbin/tscfd usr/sbin/tscfctl usr/bin/tscf-exec; do
	[ -x "$T/root/$f" ] || check "/$f not installed executable"
done
for f in usr/lib/tscf/libtscf-preload.so etc/tscf/tscf0.conf.example \
	usr/share/man/man8/tscfctl.8 usr/share/man/man8/tscfd.8 \
	usr/share/man/man5/tscfd.conf.5 usr/share/man/man1/tscf-exec.1 \
	usr/share/bash-completion/completions/tscfctl \
	usr/lib/systemd/system/tscfd.service usr/lib/systemd/system/tscf@.service \
	usr/lib/sysusers.d/tscfd.conf; do
	[ -f "$T/root/$f" ] || check "/$f not installed"
done
if [ -f tools/wireshark/tscf.lua ]; then
	[ -f "$T/root/usr/share/tscf/wireshark/tscf.lua" ] || check "dissector not installed"
fi

# The installed tscf-exec preloads the installed library (PREFIX install,
# run where it is installed).
make -s install PREFIX="$T/prefix" SYSCONFDIR="$T/etc" >>"$T/install.log" 2>&1 ||
	fail "make install PREFIX=$T/prefix: $(tail -20 "$T/install.log")"
out=$(env -u LD_PRELOAD PATH="$T/prefix/bin:$PATH" tscf-exec --level unencrypted -- \
	sh -c 'echo "$LD_PRELOAD"')
[ -f "$out" ] || fail "installed tscf-exec preloads '$out', not a file"
expect_eq "installed tscf-exec's LD_PRELOAD" "$(readlink -f "$out")" \
	"$(readlink -f "$T/prefix/lib/tscf/libtscf-preload.so")"

# One version everywhere.
v=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' dkms.conf)
[ -n "$v" ] || fail "no PACKAGE_VERSION in dkms.conf"
expect_eq "debian/changelog version" "$(dpkg-parsechangelog -S Version)" "$v"
expect_eq "module version" \
	"$(sed -n 's/^#define TSCF_DRV_VERSION[[:space:]]*"\(.*\)"$/\1/p' kmod/device.h)" "$v"

# dkms builds the module from the installed source tree alone.
make -s install-dkms DESTDIR="$T/dkms" PREFIX=/usr >>"$T/install.log" 2>&1 ||
	fail "make install-dkms: $(tail -20 "$T/install.log")"
# The kernel "make kmod" builds for (the Makefile's choice of KVER).
kver=${KVER:-$(uname -r)}
[ -d "/lib/modules/$kver/build" ] || kver=$(ls -1 /lib/modules | grep -v -- -tscfdbg | sort -rV | while read k; do
	[ -d "/lib/modules/$k/build" ] && { echo "$k"; break; }; done)
[ -d "/lib/modules/$kver/build" ] || fail "no kernel headers to build against (tools/install-deps.sh)"
mkdir "$T/tree"
dkms build -m tscf -v "$v" -k "$kver" --dkmstree "$T/tree" \
	--sourcetree "$T/dkms/usr/src" >"$T/dkms.log" 2>&1 ||
	fail "dkms build for $kver: $(tail -30 "$T/dkms.log")"
ko="$T/tree/tscf/$v/$kver/$(uname -m)/module/tscf.ko"
[ -f "$ko" ] || ko=$(find "$T/tree" -name 'tscf.ko*' | head -1)
[ -n "$ko" ] && [ -f "$ko" ] || fail "dkms built no tscf.ko: $(tail -20 "$T/dkms.log")"
expect_eq "dkms module vermagic" "$(modinfo -F vermagic "$ko" | cut -d' ' -f1)" "$kver"

# modules_install honours INSTALL_MOD_PATH (the module built above by make).
# For the kernel that module was built for: another KVER would rebuild
# kmod/ in place for that kernel, under the feet of a kernel lane that
# loads kmod/tscf.ko beside this test.  A kernel that compresses modules
# (6.12: CONFIG_MODULE_COMPRESS_XZ) installs tscf.ko.xz.
if [ -f kmod/tscf.ko ]; then
	built=$(modinfo -F vermagic kmod/tscf.ko | cut -d' ' -f1)
	make -s modules_install KVER="$built" INSTALL_MOD_PATH="$T/mods" >"$T/modinst.log" 2>&1 ||
		fail "make modules_install: $(tail -20 "$T/modinst.log")"
	find "$T/mods/lib/modules/$built" -name 'tscf.ko*' | grep -q . ||
		check "modules_install put no tscf.ko under INSTALL_MOD_PATH/lib/modules/$built"
	expect_eq "kmod/tscf.ko still built for" "$(modinfo -F vermagic kmod/tscf.ko | cut -d' ' -f1)" "$built"
else
	check "kmod/tscf.ko not built (make)"
fi
checks_done
echo ok
