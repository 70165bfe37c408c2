#!/bin/sh
# ynl-gen.sh [OUTDIR]: generate the files that docs/netlink/tscf.yaml drives,
# with Linux 6.12's tools/net/ynl/ynl-gen-c.py, into OUTDIR (default: the
# tree itself):
#   uapi/linux/tscf_genl.h   --mode uapi: family, enums, attributes, commands
#   kmod/netlink-gen.h/.c    --mode kernel: the policies, the ops table and
#                            the multicast groups (kernel-policy: global, so
#                            genl_small_ops: it builds on 6.1 and 6.12)
# The generator also validates the spec against the genetlink-legacy schema.
# YNL_SPEC: another spec to generate from (tests).
# YNL_DIR: the extracted 6.12 tools/net/ynl and Documentation/netlink
# (default /opt/tscf-cache/ynl, extracted by tools/ynl-fetch.sh).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top}
YNL_DIR=${YNL_DIR:-/opt/tscf-cache/ynl}
gen=$YNL_DIR/tools/net/ynl/ynl-gen-c.py
schema=$YNL_DIR/Documentation/netlink/genetlink-legacy.yaml
[ -f "$gen" ] && [ -f "$schema" ] || {
	echo "ynl-gen: no ynl-gen-c.py or schema under $YNL_DIR (run sh tools/ynl-fetch.sh)" >&2
	exit 2
}

# ynl-gen-c.py finds the schema at SPEC/../../PROTOCOL.yaml and names the
# spec relative to the directory holding MAINTAINERS: give it a small tree
# of that shape, so the generated files say docs/netlink/tscf.yaml.
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/docs/netlink"
: > "$stage/MAINTAINERS"
cp "${YNL_SPEC:-$top/docs/netlink/tscf.yaml}" "$stage/docs/netlink/tscf.yaml"
ln -s "$schema" "$stage/docs/genetlink-legacy.yaml"
spec=$stage/docs/netlink/tscf.yaml

mkdir -p "$out/uapi/linux" "$out/kmod"
python3 "$gen" --mode uapi --header --spec "$spec" -o "$out/uapi/linux/tscf_genl.h"
python3 "$gen" --mode kernel --header --spec "$spec" -o "$out/kmod/netlink-gen.h"
python3 "$gen" --mode kernel --source --spec "$spec" -o "$out/kmod/netlink-gen.c"
