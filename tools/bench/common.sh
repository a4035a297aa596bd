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

# The peer of the benchmarks (tools/bench/peer: pouchdb-server and the PouchDB client, pinned
# by its package.json and lock), installed into $2 (build/bench-peer) unless already there.
install_peer() {
	local src=$1 dir=$2
	command -v node >/dev/null && command -v npm >/dev/null || die "node and npm are needed"
	mkdir -p "$dir"
	[[ -f $src/package-lock.json ]] || die "$src/package-lock.json missing"
	if ! cmp -s "$src/package.json" "$dir/package.json" ||
	   ! cmp -s "$src/package-lock.json" "$dir/package-lock.json" ||
	   [[ ! -x $dir/node_modules/.bin/pouchdb-server ||
	      ! -f $dir/node_modules/pouchdb-node/package.json ]]; then
		say "installing pouchdb-server and pouchdb-node into $dir"
		cp "$src/package.json" "$src/package-lock.json" "$dir/"
		# A failed install leaves no package.json, so that the next run tries again.
		(cd "$dir" && timeout 900 npm ci --no-audit --no-fund --loglevel=error >/dev/null) ||
			{ rm -f "$dir/package.json"; die "npm ci in $dir failed"; }
	fi
}

# What the figures of a browser benchmark were measured with, and what else ran (key=value
# lines; the busiest processes on stderr).
machine_info() {
	printf 'machine_nproc=%s\n' "$(nproc)"
	printf 'machine_cpu=%s\n' "$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
	printf 'machine_mem_gib=%s\n' "$(awk '/MemTotal/ {printf "%.0f", $2 / 1048576}' /proc/meminfo)"
	printf 'machine_kernel=%s\n' "$(uname -r)"
	printf 'chromium_version=%s\n' "$("${CHROMIUM:-/usr/bin/chromium}" --version 2>/dev/null | head -1)"
	printf 'node_version=%s\n' "$(node --version)"
	printf 'commit=%s%s\n' "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')" \
		"$([[ -n $(git -C "$ROOT" status --porcelain 2>/dev/null) ]] && echo ' (with uncommitted changes)')"
	printf 'uptime_before=%s\n' "$(uptime)"
	say "busiest processes before the run:"
	ps -eo pid,pcpu,etime,comm --sort=-pcpu | head -8 >&2
}

# On a shared machine: waits until the 1-minute load average is under $1, polling every 10 s,
# at most $2 seconds; prints how long it waited (quiet_wait_s=).
wait_quiet() {
	local limit=$1 max=$2 waited=0
	while awk -v l="$(cut -d' ' -f1 /proc/loadavg)" -v t="$limit" 'BEGIN { exit !(l >= t) }'; do
		((waited < max)) || { say "still busy after ${max} s (load $(cut -d' ' -f1 /proc/loadavg)): going on"; break; }
		sleep 10
		waited=$((waited + 10))
	done
	printf 'quiet_wait_s=%s\n' "$waited"
}
