#!/bin/sh
# docs/netlink/tscf.yaml drives the code: it is valid against the kernel's
# genetlink-legacy schema; regenerating from it with Linux 6.12's ynl-gen
# gives exactly the committed uapi/linux/tscf_genl.h and
# kmod/netlink-gen.[ch]; what is still written by hand agrees with it
# (selftests/lib/ynl_spec_check.py: permissions of commands and groups, no
# policy or ops table outside netlink-gen.c, tscf_nl.py's numbers).  And the
# comparison can fail: a spec with one attribute added generates different
# files, and a spec with a group lacking its permission is refused.
. "$TSCF_TOP/selftests/lib.sh"
YNL_DIR=${YNL_DIR:-/opt/tscf-cache/ynl}
export YNL_DIR
sh "$TSCF_TOP/tools/ynl-fetch.sh" >/dev/null ||
	fail "no ynl tools in $YNL_DIR (tools/install-deps.sh, then sh tools/ynl-fetch.sh)"
python3 -c 'import yaml, jsonschema' || fail "python3-yaml and python3-jsonschema are needed"
schema=$YNL_DIR/Documentation/netlink/genetlink-legacy.yaml
spec=$TSCF_TOP/docs/netlink/tscf.yaml
tmp=$(mktemp -d)
at_exit "rm -rf $tmp"
GENERATED="uapi/linux/tscf_genl.h kmod/netlink-gen.h kmod/netlink-gen.c"

# gen_differs DIR: regenerate into DIR; true if any file differs from the tree.
gen_differs() {
	differs=1
	for f in $GENERATED; do
		cmp -s "$1/$f" "$TSCF_TOP/$f" || { differs=0; echo "# differs: $f"; }
	done
	return $differs
}

sh "$TSCF_TOP/tools/ynl-gen.sh" "$tmp/gen" || fail "ynl-gen failed on $spec"
if gen_differs "$tmp/gen"; then
	for f in $GENERATED; do diff -u "$TSCF_TOP/$f" "$tmp/gen/$f" | head -n 30; done
	fail "committed generated files differ from the spec: run make ynl"
fi
log "generated files match the spec"

python3 "$TSCF_TOP/selftests/lib/ynl_spec_check.py" "$spec" "$schema" "$TSCF_TOP" ||
	fail "hand-written parts disagree with the spec"

# The checks can fail.  One more attribute in the spec: other files.
python3 - "$spec" "$tmp/added.yaml" <<'PY'
import sys
s = open(sys.argv[1]).read()
anchor = "      - { name: pad, type: pad }\n      - { name: tx-refused"
assert anchor in s, "anchor not found in spec"
open(sys.argv[2], 'w').write(s.replace(anchor,
    "      - { name: pad, type: pad }\n      - { name: new-attr, type: u32 }\n      - { name: tx-refused", 1))
PY
YNL_SPEC=$tmp/added.yaml sh "$TSCF_TOP/tools/ynl-gen.sh" "$tmp/added" ||
	fail "ynl-gen failed on the changed spec"
gen_differs "$tmp/added" >/dev/null || fail "an added attribute left the generated files unchanged"
# A group without its permission, and a mistyped key: refused.
sed '0,/flags: \[ uns-admin-perm \]$/! { /^      c-define-name: tscf-mcgrp-sock$/ { n; d } }' \
	"$spec" > "$tmp/nogroupperm.yaml"
cmp -s "$spec" "$tmp/nogroupperm.yaml" && fail "could not make the group-permission mutant"
python3 "$TSCF_TOP/selftests/lib/ynl_spec_check.py" "$tmp/nogroupperm.yaml" "$schema" "$TSCF_TOP" \
	> "$tmp/out" && fail "a group without uns-admin-perm passed the check"
grep -q "group sock" "$tmp/out" || fail "the check did not name the group: $(cat "$tmp/out")"
sed 's/^      name: ctrl$/      name: ctrl\n      c-define: nope/' "$spec" > "$tmp/badkey.yaml"
python3 "$TSCF_TOP/selftests/lib/ynl_spec_check.py" "$tmp/badkey.yaml" "$schema" "$TSCF_TOP" \
	> "$tmp/out" && fail "a spec with an unknown key passed the schema"
grep -q "not valid" "$tmp/out" || fail "no schema error: $(cat "$tmp/out")"
echo ok
