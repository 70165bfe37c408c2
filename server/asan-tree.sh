#!/bin/sh
# asan-tree.sh TOP DIR: DIR/tree mirrors TOP with symbolic links, except
# that tscfd, tscfctl and the unit tests are wrappers running the sanitizer
# builds in DIR/bin.  A sanitizer report is written to DIR/logs/NAME.PID
# (the directory is world-writable: tscfd drops to an unprivileged user).
set -eu
top=$1
dir=$2
tree=$dir/tree
rm -rf "$tree"
mkdir -p "$tree/server" "$tree/tools/lib" "$dir/logs"
chmod 1777 "$dir/logs"
# Everything but the directories that hold replaced binaries.
for e in "$top"/* "$top"/.[!.]*; do
	[ -e "$e" ] || continue
	case "${e##*/}" in build|server|tools|.git) continue ;; esac
	ln -s "$e" "$tree/${e##*/}"
done
for sub in server tools tools/lib; do
	for e in "$top/$sub"/* "$top/$sub"/.[!.]*; do
		[ -e "$e" ] || continue
		[ -e "$tree/$sub/${e##*/}" ] && continue
		case "$sub/${e##*/}" in
		server/tscfd|server/unit_test|tools/tscfctl|tools/lib|tools/lib/test_proto|tools/lib/test_json) continue ;;
		esac
		ln -s "$e" "$tree/$sub/${e##*/}"
	done
done
wrap() {
	cat > "$tree/$1" <<WRAP
#!/bin/sh
# $2 built with -fsanitize=address,undefined: a report aborts it and is kept
# in $dir/logs.
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:log_path=$dir/logs/$2\${ASAN_OPTIONS:+:\$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$dir/logs/$2-ubsan\${UBSAN_OPTIONS:+:\$UBSAN_OPTIONS}"
exec "$dir/bin/$2" "\$@"
WRAP
	chmod 755 "$tree/$1"
}
wrap server/tscfd tscfd
wrap server/unit_test unit_test
wrap tools/tscfctl tscfctl
wrap tools/lib/test_proto test_proto
wrap tools/lib/test_json test_json
echo "asan tree: $tree"
