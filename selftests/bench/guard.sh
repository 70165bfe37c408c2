# guard.sh: sourced by the bench scripts (bench.sh, voice.sh) in the VM, after
# selftests/lib.sh and once TMPD exists.  A bench must always finish: every
# step that waits is bounded and named, so a hang becomes a failure with a
# reason and the rows after it still run.
#   step WHAT            names the step now running (printed with the time)
#   wait_secs SECS CMD...  polls CMD for at most SECS seconds
#   reap PID SECS WHAT   waits for PID at most SECS; a process still there
#                        is dumped (state, wait channel, kernel stack) and
#                        killed; returns 1 then, with the reason in REAP_WHY
#   bounded SECS WHAT CMD...
#                        runs CMD (its output goes where the caller sends
#                        it), reaped as above; returns CMD's status, or 124
#   guard_watchdog SECS  from now on, when no step starts for SECS, print
#                        what every process of the bench waits on, once
#                        per stalled step (the diagnosis of a hang that
#                        no bound catches: a task stuck in the kernel)
# Diagnostics go to fd 3, the script's stdout as it was when this file was
# sourced, so that they reach the VM log even from a redirected step.
exec 3>&1

# why_no_tunnel CTL_LOG: what the helper and tscfd said last, and whether
# the helper still runs (CTL_PID), for a tunnel that did not come up.
why_no_tunnel() {
	echo "# no encrypted tunnel; tscfctl helper $(kill -0 "$CTL_PID" 2>/dev/null &&
		echo "still runs" || echo "is gone"); its log:" >&3
	tail -n 8 "$1" | sed 's/^/#   /' >&3
	echo "# tscfd's log:" >&3
	tail -n 12 "$TMPD/tscfd.log" | sed 's/^/#   /' >&3
	dmesg | tail -n 5 | sed 's/^/#   /' >&3
}

# wait_secs SECS CMD...: poll CMD until it succeeds, for SECS of the clock.
# Not lib.sh's wait_for, which counts SECS * 10 polls: a poll that starts
# python (tunnel_up) takes a second or more under TCG, so wait_for 30
# could wait ten minutes and longer on a loaded host.
wait_secs() {
	w_end=$(($(date +%s) + $1))
	shift
	while :; do
		"$@" > /dev/null 2>&1 && return 0
		[ "$(date +%s)" -lt "$w_end" ] || return 1
		sleep 0.2
	done
}

# step WHAT: the progress mark the watchdog reads.
step() {
	echo >&3 "# step $(date +%T): $*"
	printf '%s\n' "$*" > "$TMPD/step"
	date +%s > "$TMPD/progress"
}

# task_state PID: one line: pid, name, state, wait channel, kernel stack.
task_state() {
	[ -d "/proc/$1" ] || { echo "pid $1: gone"; return; }
	comm=$(cat "/proc/$1/comm" 2>/dev/null)
	state=$(sed 's/^[0-9]* (.*) \([A-Z]\).*/\1/' "/proc/$1/stat" 2>/dev/null)
	wchan=$(cat "/proc/$1/wchan" 2>/dev/null)
	stack=$(sed 's/^\[<[0-9a-f]*>\] //; s/+0x[0-9a-f/x]*$//' "/proc/$1/stack" 2>/dev/null |
		head -n 12 | tr '\n' ' ')
	echo "pid $1 ($comm) state $state wchan ${wchan:-?} stack: ${stack:-?}"
}

# task_dump WHY: the bench's processes and every task in D state.
task_dump() {
	echo "# HANG: $1; the tasks:"
	for p in /proc/[0-9]*; do
		pid=${p#/proc/}
		comm=$(cat "$p/comm" 2>/dev/null) || continue
		state=$(sed 's/^[0-9]* (.*) \([A-Z]\).*/\1/' "$p/stat" 2>/dev/null)
		case "$comm:$state" in
		*:D | tscf* | python3:* | iperf3:* | sockperf:* | rtp*:* | ip:* | timeout:*)
			echo "#   $(task_state "$pid")" ;;
		esac
	done
	echo "# HANG: kernel log tail:"
	dmesg | tail -n 15 | sed 's/^/#   /'
}

# reap PID SECS WHAT: see above.
reap() {
	REAP_WHY=""
	n=$(($2 * 10))
	while [ $n -gt 0 ] && kill -0 "$1" 2>/dev/null; do
		[ "$(sed 's/^[0-9]* (.*) \([A-Z]\).*/\1/' "/proc/$1/stat" 2>/dev/null)" != Z ] || break
		sleep 0.1
		n=$((n - 1))
	done
	if [ $n -gt 0 ]; then
		wait "$1" 2>/dev/null
		return
	fi
	REAP_WHY="$3 still running after $2 s: $(task_state "$1")"
	echo "# HANG: $REAP_WHY" >&3
	task_dump "$3" >&3
	kill -9 "$1" 2>/dev/null || true
	n=50
	while [ $n -gt 0 ] && [ -d "/proc/$1" ] &&
		[ "$(sed 's/^[0-9]* (.*) \([A-Z]\).*/\1/' "/proc/$1/stat" 2>/dev/null)" != Z ]; do
		sleep 0.1
		n=$((n - 1))
	done
	if [ $n -gt 0 ]; then
		wait "$1" 2>/dev/null
	else
		# Not even SIGKILL ends it (stuck in the kernel): leave it, go on.
		REAP_WHY="$REAP_WHY; SIGKILL did not end it"
		echo "# HANG: pid $1 survives SIGKILL; left behind" >&3
	fi
	return 1
}

# bounded SECS WHAT CMD...: see above.
bounded() {
	b_secs=$1 b_what=$2
	shift 2
	"$@" &
	reap $! "$b_secs" "$b_what" && return 0
	b_rc=$?
	[ -z "$REAP_WHY" ] || return 124
	return $b_rc
}

# guard_watchdog SECS: see above.
guard_watchdog() {
	step "watchdog armed (${1} s without a new step)"
	(
		dumped=""
		while sleep 5; do
			[ -f "$TMPD/progress" ] || exit 0
			age=$(($(date +%s) - $(cat "$TMPD/progress")))
			at=$(cat "$TMPD/progress")
			if [ "$age" -ge "$1" ] && [ "$dumped" != "$at" ]; then
				task_dump "no progress for $age s in step: $(cat "$TMPD/step")" >&3
				dumped=$at
			fi
		done
	) &
	GUARD_PID=$!
	at_exit "kill $GUARD_PID 2>/dev/null"
}
