# common.sh: what the benchmark scripts share (sourced; BENCH_NAME names the script in messages).

say() { printf '%s: %s\n' "${BENCH_NAME:-bench}" "$*" >&2; }
die() { say "$*"; exit 1; }

# Stops what we started, by pid, politely then firmly.
stop_pid() {
	local pid=$1 i
	[[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		say "pid $pid ignored SIGTERM; killing it"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}

# Runs a command in the background and waits for it, so that a signal reaches our trap at
# once instead of after the command (bash defers traps while a foreground child runs).
fg_pid=""
run_fg() {
	local rc=0
	"$@" &
	fg_pid=$!
	wait "$fg_pid" || rc=$?
	fg_pid=""
	return "$rc"
}

# Waits (bounded) for veilled, started in the background as $server_pid, to write its port
# file $1; prints the port.
wait_port_file() {
	local f=$1 log=$2 i
	for i in $(seq 600); do
		[[ -s $f ]] && break
		kill -0 "$server_pid" 2>/dev/null || die "veilled exited: $(tail -5 "$log")"
		sleep 0.1
	done
	[[ -s $f ]] || die "veilled wrote no port file in 60 s"
	sleep 0.5 # veilled installs its SIGTERM handler right after writing the port file
	cat "$f"
}
