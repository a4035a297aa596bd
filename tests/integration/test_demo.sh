#!/bin/sh
# Integration: the demo data set (tools/demo-seed) and the demo (tools/demo), with the real
# veillectl, veilled and `veille` CLI of BUILD_DIR.
#
#   test_demo.sh SOURCE_DIR BUILD_DIR
#
# 1. As the browser tests use it: `veillectl init`, veilled on port 0 (--port-file),
#    `tools/demo-seed DATA BUILD URL`, then `tools/demo-seed --codes DATA BUILD`: one line
#    `code ROLE PROFESSIONAL_ID CODE` per professional, every web role present; nine centres,
#    all located, eight declared and fresh, one never declared and stale; four open requests.
#    Seeding a data directory that is not fresh is refused.
# 2. tools/demo on port 0: prints a code per web professional, then SIGINT to its process
#    group (Ctrl-C) stops veilled cleanly: exit status 0, nothing left running.
set -eu
src=$1
build=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/veille-demo-XXXXXX")
pid=
fail() { echo "FAIL: $*" >&2; [ -f "$tmp/veilled.log" ] && cat "$tmp/veilled.log" >&2; exit 1; }
cleanup() {
  [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
ctl="$build/tools/veillectl --data $tmp/data"

# ---- 1. demo-seed, as a test harness calls it ----
$ctl init >/dev/null
"$build/server/veilled" --data "$tmp/data" --listen 127.0.0.1:0 --port-file "$tmp/port" \
  2>"$tmp/veilled.log" &
pid=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
[ -s "$tmp/port" ] || fail "veilled did not start"
start=$(date +%s)
"$src/tools/demo-seed" "$tmp/data" "$build" "ws://127.0.0.1:$(cat "$tmp/port")" >"$tmp/seed.out" ||
  fail "demo-seed: $(cat "$tmp/seed.out")"
echo "demo-seed took $(($(date +%s) - start)) s"
[ -d "$tmp/data-devices/camille-martin" ] || fail "no device kept for camille-martin"

"$src/tools/demo-seed" --codes "$tmp/data" "$build" >"$tmp/codes"
pros=$($ctl professional list | grep -vc '^#')
[ "$(wc -l <"$tmp/codes")" -eq "$pros" ] || fail "--codes: not one line per professional"
grep -Evq '^code [a-z_0-9]+ [a-z0-9-]+ [0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$' "$tmp/codes" &&
  fail "--codes: a line not 'code ROLE PROFESSIONAL_ID CODE': $(cat "$tmp/codes")"
for role in coordinateur_siao ecoutant_115 superviseur responsable_centre accueillant maraudeur; do
  grep -q "^code $role " "$tmp/codes" || fail "--codes: no $role"
done
grep -q '^code responsable_centre marc-petit ' "$tmp/codes" || fail "no responsable of chrs-75-tilleuls"
# The codes work: one enrols a device.
code=$(sed -n 's/^code coordinateur_siao sophie-laurent //p' "$tmp/codes")
"$build/clients/c/veille" --dir "$tmp/sophie" enrol --server "ws://127.0.0.1:$(cat "$tmp/port")" \
  --code "$code" >/dev/null || fail "the coordinator's code does not enrol"

$ctl places list --territory 75 >"$tmp/places"
centres=$(awk -F '\t' '!/^#/ { print $1 }' "$tmp/places" | sort -u | wc -l)
[ "$centres" -ge 8 ] || fail "$centres centres"
awk -F '\t' '!/^#/ && ($9 == "-" || $9 < 48.81 || $9 > 48.91 || $10 < 2.22 || $10 > 2.47) {
  exit 1 }' "$tmp/places" || fail "a centre not located in Paris: $(cat "$tmp/places")"
stale=$(awk -F '\t' '!/^#/ && $8 == "stale" { print $1 }' "$tmp/places" | sort -u | wc -l)
[ "$stale" -eq 1 ] || fail "$stale stale centres, not 1"
# Today in Paris is one of these (no time zone data needed).
$ctl stats --territory 75 --from "$(date -u -d yesterday +%F)" --to "$(date -u -d tomorrow +%F)" \
  >"$tmp/stats"
grep -Eq ",75,requests,,[3-9]$" "$tmp/stats" || fail "not 3 or more requests: $(cat "$tmp/stats")"
grep -q ",75,proposals," "$tmp/stats" && fail "a request is not open any more"

# Bad input: a data directory already seeded.
if "$src/tools/demo-seed" --devices "$tmp/other" "$tmp/data" "$build" \
  "ws://127.0.0.1:$(cat "$tmp/port")" 2>"$tmp/err"; then
  fail "seeded twice"
fi
grep -q "fresh data directory" "$tmp/err" || fail "no reason given: $(cat "$tmp/err")"
kill -TERM "$pid"
wait "$pid" || fail "veilled did not stop cleanly"
pid=

# ---- 2. tools/demo, stopped by Ctrl-C ----
VEILLE_DEMO_LISTEN=127.0.0.1:0 setsid "$src/tools/demo" "$tmp/demo" "$build" \
  >"$tmp/demo.out" 2>&1 </dev/null &
pid=$!
for _ in $(seq 300); do grep -q "Stop the server" "$tmp/demo.out" && break; sleep 0.1; done
grep -q "Stop the server" "$tmp/demo.out" || fail "tools/demo: $(cat "$tmp/demo.out")"
grep -Eq 'Web app: +http://127\.0\.0\.1:[1-9][0-9]*/' "$tmp/demo.out" || fail "no web URL"
n=$(grep -Ec '^    [0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}  ' "$tmp/demo.out")
[ "$n" -ge 13 ] || fail "tools/demo printed $n codes: $(cat "$tmp/demo.out")"
kill -s INT -- "-$pid" # Ctrl-C: the signal goes to the whole process group
status=0
wait "$pid" || status=$?
pid=
[ "$status" -eq 0 ] || fail "tools/demo exited $status: $(cat "$tmp/demo.out")"
grep -q "shutting down" "$tmp/demo.out" || fail "veilled did not shut down"
grep -q "Sanitizer" "$tmp/demo.out" && fail "sanitizer report: $(cat "$tmp/demo.out")"
pgrep -f "veilled --data $tmp/demo" >/dev/null && fail "veilled still running"
echo "ok"
