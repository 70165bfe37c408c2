#!/bin/sh
# tscfd's flow table (server/flow.c) against a model, under ASAN and
# UBSan: random binds and unbinds up to and past the 1,024 maximum, exact
# and wildcard, over either tunnel (the clear one may not lower what the
# encrypted one bound), each return packet checked to take its tunnel,
# and the set an encrypted peer in the kernel would get checked too.
. "$TSCF_TOP/selftests/lib.sh"
TMPD=$(mktemp -d)
at_exit "rm -rf $TMPD"
make -s -C "$TSCF_TOP/tools" lib || fail "tools/lib"
cc -O1 -g -Wall -Wextra -Werror -fsanitize=address,undefined -fno-sanitize-recover=all \
	-I"$TSCF_TOP/server" -I"$TSCF_TOP/uapi" -I"$TSCF_TOP/tools/lib" \
	"$TSCF_TOP/selftests/lib/flowtab_check.c" "$TSCF_TOP/server/flow.c" \
	"$TSCF_TOP/server/siphash.c" \
	"$TSCF_TOP/tools/lib/libtscfproto.a" -o "$TMPD/flowtab_check" || fail "build the check"
out=$("$TMPD/flowtab_check" 2>&1) || fail "$out"
log "$out"
echo ok
