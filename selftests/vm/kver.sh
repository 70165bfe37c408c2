# shellcheck shell=sh
# Sourced by vm-run.sh and selftests/lib/pkg-host-install.sh.
# default_kver: Debian's default kernel (the one linux-image-amd64 depends
# on: 6.1 on Debian 12, even beside an installed 6.12), else the newest one.
default_kver() {
	for v in $(dpkg-query -W -f='${Depends}' linux-image-amd64 2>/dev/null |
		   sed -n 's/^linux-image-\([^ ,]*\).*/\1/p') \
		 $(ls -1 /lib/modules 2>/dev/null | sort -rV); do
		if [ -e "/boot/vmlinuz-$v" ] && [ -d "/lib/modules/$v/kernel" ]; then
			echo "$v"
			return
		fi
	done
}
