#!/bin/sh
# The man pages (make man, from docs/*.md with pandoc) render without a
# groff warning, and each names every option and keyword its program's
# usage message prints, every setting server/config.c accepts
# (tscfd.conf(5)) and every subcommand the bash completion offers.
. "$TSCF_TOP/selftests/lib.sh"
command -v pandoc >/dev/null || fail "pandoc missing (tools/install-deps.sh)"
T=$(mktemp -d)
at_exit "rm -rf $T"
# The source tree itself, also from the sanitizer lane's mirror of links
# (whose programs are wrappers that make must not rebuild).
SRC=$(dirname "$(readlink -f "$TSCF_TOP/Makefile")")
cd "$SRC"
make -s man >"$T/make.log" 2>&1 || fail "make man: $(cat "$T/make.log")"
[ -x "$TSCF_TOP/tools/tscfctl" ] && [ -x "$TSCF_TOP/server/tscfd" ] || fail "tools not built (make)"

# render PAGE: plain text, no hyphenation or justification, ASCII.
render() {
	LC_ALL=C MANWIDTH=200 man --nh --nj -l "$1"
}

for p in tscfctl.8 tscfd.8 tscfd.conf.5 tscf-exec.1; do
	f=build/man/$p
	[ -s "$f" ] || { check "$p: not built"; continue; }
	LC_ALL=C MANWIDTH=80 man --warnings=all -l "$f" >"$T/$p.txt" 2>"$T/$p.err" ||
		check "$p: man -l failed: $(cat "$T/$p.err")"
	[ -s "$T/$p.err" ] && check "$p: groff warnings: $(cat "$T/$p.err")"
	render "$f" > "$T/$p.txt" 2>/dev/null
	n=${p%.*}
	sec=${p##*.}
	grep -q "^$(echo "$n" | tr a-z A-Z)($sec)" "$T/$p.txt" || check "$p: no $n($sec) header"
	for s in NAME SYNOPSIS DESCRIPTION; do
		grep -q "^$s" "$T/$p.txt" || check "$p: no $s section"
	done
done

# in_page PAGE WORD: WORD as a whole word (options keep their dashes).
in_page() {
	grep -qE -- "(^|[^a-zA-Z0-9-])$(printf '%s' "$2" | sed 's/[.]/\\./g')([^a-zA-Z0-9-]|$)" \
		"$T/$1.txt"
}

# words PROG < USAGE: the options and keywords a usage message names:
# from "PROG ..." lines the syntax (before a two-space gap, where a
# description may start), from "LABEL:" lines and their continuations the
# keywords (in parentheses only options and hyphenated words), from
# explanation lines ("  -v: ...") the options only.
words() {
	python3 -c '
import re, sys
prog = sys.argv[1]
out, mode = set(), None
tok = re.compile(r"--?[a-zA-Z][a-zA-Z-]*|[a-z][a-z0-9-]*")
def keep(text, only_dashed):
    for t in tok.findall(text):
        if t.startswith("-") or not only_dashed or "-" in t:
            out.add(t)
for line in sys.stdin:
    line = line.rstrip("\n")
    m = re.match(r"^(usage:)?\s*" + re.escape(prog) + r"(\s|$)(.*)", line)
    if m:
        mode = "syntax"
        keep(re.split(r"(?<=\S)\s{2,}", m.group(3))[0], False)
        continue
    m = re.match(r"^[A-Z]+:(.*)", line)
    if m or (mode == "label" and line[:1].isspace() and not line.strip().startswith("-")):
        mode = "label"
        body = m.group(1) if m else line
        keep(re.sub(r"\([^)]*\)", " ", body), False)
        for group in re.findall(r"\(([^)]*)\)", body):
            keep(group, True)
        continue
    mode = "explain"
    keep(line, True)
print("\n".join(sorted(out - {"usage"})))' "$1"
}

"$TSCF_TOP/tools/tscfctl" > "$T/ctl.usage" 2>&1 && check "tscfctl without arguments exited 0"
"$TSCF_TOP/server/tscfd" --help > "$T/tscfd.usage" 2>&1 || true
[ -s "$T/ctl.usage" ] && [ -s "$T/tscfd.usage" ] || fail "no usage message printed"
for w in $(words tscfctl < "$T/ctl.usage"); do
	in_page tscfctl.8 "$w" || check "tscfctl(8) does not mention '$w' from the usage"
done
for w in $(words tscfd < "$T/tscfd.usage"); do
	in_page tscfd.8 "$w" || check "tscfd(8) does not mention '$w' from the usage"
done
# tscf-exec: its synopsis line and the levels.
tools/exec/tscf-exec --help > "$T/exec.usage" 2>&1 || true
for w in $(sed -n '1p; /^ *LEVEL /p' "$T/exec.usage" | sed 's/^ *LEVEL/LEVEL:/' | words tscf-exec); do
	in_page tscf-exec.1 "$w" || check "tscf-exec(1) does not mention '$w' from the usage"
done

# Every setting the parser knows is documented.
keys=$(sed -n 's/.*strcmp(key, "\([a-z0-9-]*\)").*/\1/p' server/config.c | sort -u)
[ -n "$keys" ] || fail "no settings found in server/config.c"
for k in $keys tscf-interface; do
	in_page tscfd.conf.5 "$k" || check "tscfd.conf(5) does not document '$k'"
done

# The completion offers each subcommand of the usage, and nothing else.
subs=$(sed -n 's/^\(usage:\)\{0,1\} *tscfctl \(\[OPTIONS\] \)\{0,1\}\([a-z]*\).*$/\3/p' "$T/ctl.usage" | sort -u)
comp=$(sed -n 's/.*compgen -W "\(up down[^"]*\)".*/\1/p' dist/bash-completion/tscfctl |
	tr ' ' '\n' | grep -v '^-' | sort -u)
[ -n "$subs" ] || fail "no subcommands in the usage"
expect_eq "completion subcommands" "$(echo $comp)" "$(echo $subs)"
bash -n dist/bash-completion/tscfctl || check "bash completion: syntax error"
checks_done
echo ok
