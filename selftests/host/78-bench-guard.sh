#!/bin/sh
# The bench's guards (selftests/bench/guard.sh) keep a hung step from
# hanging make bench:
#  1. bounded ends a step that outlives its bound, within a second or two
#     of it, returns 124 and names it (REAP_WHY, a "# HANG:" line with the
#     task's state on fd 3); a step that ends returns its own status;
#  2. a process that ignores SIGTERM is still ended (SIGKILL);
#  3. wait_secs is bounded by the clock: with a poll that takes 1 s it
#     gives up after about 2 s where lib.sh's wait_for 2 (20 polls) takes
#     20 s, which is how the kTLS row's wait for its tunnel hung the run;
#  4. the watchdog prints the tasks once when no step starts in time.
. "$TSCF_TOP/selftests/lib.sh"
TMPD=$(mktemp -d)
at_exit "rm -rf $TMPD"
. "$TSCF_TOP/selftests/bench/guard.sh" 3> "$TMPD/diag"
exec 3>> "$TMPD/diag"

t0=$(date +%s)
rc=0
bounded 1 "a sleeper" sleep 30 || rc=$?
took=$(($(date +%s) - t0))
[ $rc = 124 ] || check "bounded: exit $rc for a step past its bound, expected 124"
[ $took -le 4 ] || check "bounded: took $took s for a bound of 1 s"
case $REAP_WHY in
"a sleeper still running after 1 s: pid "*"(sleep) state S"*) ;;
*) check "bounded: REAP_WHY is '$REAP_WHY'" ;;
esac
grep -q '^# HANG: a sleeper still running' "$TMPD/diag" || check "no HANG line: $(cat "$TMPD/diag")"

rc=0
bounded 5 "exit 3" sh -c 'exit 3' || rc=$?
[ $rc = 3 ] && [ -z "$REAP_WHY" ] || check "bounded: exit $rc ('$REAP_WHY') for a step that exits 3"
bounded 5 "true" true || check "bounded: true failed"

# 2. SIGTERM ignored: reap's SIGKILL still ends it.
sh -c 'trap "" TERM; sleep 30' &
p=$!
rc=0
reap $p 1 "a stubborn one" || rc=$?
[ $rc = 1 ] && ! kill -0 $p 2>/dev/null || check "reap: exit $rc, pid $p alive: $(kill -0 $p 2>&1)"

# 3. Time, not polls.
slow_false() { sleep 1; return 1; }
t0=$(date +%s)
wait_secs 2 slow_false && check "wait_secs: a false condition succeeded"
took=$(($(date +%s) - t0))
[ $took -ge 2 ] && [ $took -le 5 ] || check "wait_secs 2 with 1 s polls took $took s"
t0=$(date +%s)
wait_for 1 slow_false && check "wait_for: a false condition succeeded"
took=$(($(date +%s) - t0))
[ $took -ge 10 ] || check "wait_for 1 with 1 s polls took $took s: the premise of wait_secs changed"

# 4. The watchdog: one dump per stalled step.
: > "$TMPD/diag"
guard_watchdog 2
sleep 12
kill $GUARD_PID
n=$(grep -c '^# HANG: no progress for' "$TMPD/diag" || true)
[ "$n" = 1 ] || check "watchdog: $n dumps in one stalled step, expected 1: $(head -c 600 "$TMPD/diag")"
checks_done
