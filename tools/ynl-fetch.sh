#!/bin/sh
# ynl-fetch.sh: extract Linux 6.12's ynl tools (tools/net/ynl: ynl-gen-c.py,
# the Python library lib/ynl.py and cli.py) and the netlink spec schemas
# (Documentation/netlink/*.yaml) from Debian's linux-source-6.12 into
# YNL_DIR (default /opt/tscf-cache/ynl), outside the tree.  Used by
# `make ynl`, selftests/host/72-ynl-spec.sh and selftests/kernel/57-ynl-cli.sh.
# Needs linux-source-6.12, python3-yaml and python3-jsonschema
# (tools/install-deps.sh).
set -eu
YNL_DIR=${YNL_DIR:-/opt/tscf-cache/ynl}
src=/usr/src/linux-source-6.12.tar.xz
if [ -f "$YNL_DIR/tools/net/ynl/ynl-gen-c.py" ] &&
   [ -f "$YNL_DIR/Documentation/netlink/genetlink-legacy.yaml" ]; then
	exit 0
fi
[ -r "$src" ] || {
	echo "ynl-fetch: $src missing (apt-get install linux-source-6.12)" >&2
	exit 2
}
mkdir -p "$YNL_DIR"
tar -xJf "$src" -C "$YNL_DIR" --strip-components=1 --wildcards \
	'linux-source-6.12/tools/net/ynl' \
	'linux-source-6.12/Documentation/netlink/*.yaml'
echo "ynl-fetch: ynl tools in $YNL_DIR"
