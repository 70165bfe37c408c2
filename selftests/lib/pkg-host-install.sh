#!/bin/sh
# pkg-host-install.sh CMD...: install the .debs of build/deb on this host as
# an operator would (dpkg -i; tscf-dkms's postinst has dkms build tscf.ko
# for the kernel the VM boots: KVER, chosen as vm-run.sh does), but into
# throwaway layers: in a mount namespace of its own, /usr, /etc and /var
# get overlays with tmpfs upper layers, so nothing of the host changes and
# it is all gone when CMD ends.  Then CMD runs in that
# namespace: a VM started there (vm-run.sh) sees the installed system
# through its 9p root, and 60-packages.sh goes on from dpkg's result.
#
# Why on the host: dkms's compile is the packages lane's cost under TCG
# (713 of its 808 s in one run); natively it takes seconds.  What the guest
# still checks: dpkg says the packages are installed, modinfo finds dkms's
# tscf.ko for the kernel it booted, modprobe loads it, and the units run.
#
# KVER stands in for the running kernel (the guest's): dkms's postinst
# builds for the running kernel and the newest one with a config in /boot,
# or, when the running kernel is not installed (this host's), for every
# kernel in /lib/modules.  So /boot and /lib/modules show KVER alone, and
# /run is empty: no systemd for the postinsts to start units with.
set -eu
if [ "$(id -u)" != 0 ]; then
	echo "pkg-host-install: run as root (a mount namespace, overlays, dpkg -i)" >&2
	exit 1
fi
if [ "${TSCF_PKG_NS:-}" != 1 ]; then
	exec unshare --mount --propagation private env TSCF_PKG_NS=1 sh "$0" "$@"
fi
[ $# -ge 1 ] || { echo "usage: pkg-host-install.sh CMD..." >&2; exit 2; }
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/selftests/vm/kver.sh"
kver=${KVER:-$(default_kver)}
export KVER="$kver"
deb=$top/build/deb
for p in tscf-dkms tscf-tools tscfd; do
	ls "$deb/${p}_"*.deb >/dev/null 2>&1 || { echo "pkg-host-install: no $deb/${p}_*.deb (make deb)" >&2; exit 1; }
done
[ -d "/lib/modules/$kver/build" ] || { echo "pkg-host-install: no headers for $kver" >&2; exit 1; }
[ -f "/boot/config-$kver" ] || { echo "pkg-host-install: no /boot/config-$kver" >&2; exit 1; }

o=$top/build/pkgroot
mkdir -p "$o"
mount -t tmpfs tscf-pkgroot "$o"
for d in /usr /etc /var; do
	mkdir -p "$o/up$d" "$o/work$d"
	mount -t overlay overlay -o "lowerdir=$d,upperdir=$o/up$d,workdir=$o/work$d" "$d"
done
touch /etc/.tscf-overlay-probe
mkdir -p "$o/probe"
mount --bind / "$o/probe"
if [ -e "$o/probe/etc/.tscf-overlay-probe" ]; then
	echo "pkg-host-install: the overlay on /etc does not protect the host" >&2
	exit 1
fi
umount "$o/probe"
rm /etc/.tscf-overlay-probe
mount -t tmpfs tscf-run /run

# /lib/modules (in the /usr overlay, so dkms's writes land there) and /boot
# show KVER alone while dpkg runs.
mkdir -p "$o/modules/$kver" "$o/boot"
mount --bind "/lib/modules/$kver" "$o/modules/$kver"
mount --rbind "$o/modules" /lib/modules
cp "/boot/config-$kver" "$o/boot/"
mount --bind "$o/boot" /boot

t0=$(date +%s)
rc=0
DEBIAN_FRONTEND=noninteractive dpkg -i "$deb"/tscf-dkms_*.deb "$deb"/tscf-tools_*.deb \
	"$deb"/tscfd_*.deb > "$o/dpkg.log" 2>&1 || rc=$?
umount /boot
umount -R /lib/modules
if [ "$rc" != 0 ]; then
	echo "pkg-host-install: dpkg -i failed ($rc):" >&2
	tail -n 40 "$o/dpkg.log" >&2
	exit 1
fi
# What was installed, for 60-packages.sh: it skips its own dpkg -i only
# for these very .debs (their version alone does not change per commit).
(cd "$deb" && sha256sum tscf-dkms_*.deb tscf-tools_*.deb tscfd_*.deb) > /var/lib/tscf-pkg-host-install
echo "# pkg-host-install: dpkg -i with the dkms build for $kver: $(( $(date +%s) - t0 )) s"
grep -E "Building (for|initial)|^Done|dkms" "$o/dpkg.log" | sed 's/^/# pkg-host-install: /' | head -n 8
"$@"
