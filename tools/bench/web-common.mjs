// web-common.mjs: what the browser benchmarks' drivers share (tools/bench/web-desk.mjs,
// tools/bench/web-maraude.mjs): statistics, key=value output, CPU time from /proc, a CPU
// profile's report named through the build's source maps, the summary table, and the
// pinning of veilled to its CPU.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { SourceMap } from "node:module";
import { join } from "node:path";

/* ---- statistics ---- */
export function quantile(sorted, q) { /* nearest rank */
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
export function summary(values) {
  const s = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  return {
    count: s.length,
    median: quantile(s, 0.5),
    p95: quantile(s, 0.95),
    p99: quantile(s, 0.99),
    max: s.length ? s[s.length - 1] : NaN,
    over16: s.filter((v) => v > 16).length,
  };
}
export const f1 = (v) => (Number.isFinite(v) ? v.toFixed(1) : "-");
export const f0 = (v) => (Number.isFinite(v) ? v.toFixed(0) : "-");
export const kib = (b) => `${(b / 1024).toFixed(1)} KiB`;
/* key=value lines: printed, and kept in `out` for results.json */
export const out = [];
export const kv = (k, v) => {
  const s = `${k}=${typeof v === "number" ? (Number.isInteger(v) ? v : v.toFixed(2)) : v}`;
  out.push(s);
  console.log(s);
};

/* ---- CPU time of processes (clock ticks from /proc) ---- */
const HZ = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;
export function cpuOf(pid) { /* seconds of CPU of pid and, with children, of its reaped children */
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8");
    const v = f.slice(f.lastIndexOf(")") + 2).split(" ");
    return { self: (Number(v[11]) + Number(v[12])) / HZ, children: (Number(v[13]) + Number(v[14])) / HZ };
  } catch {
    return { self: 0, children: 0 };
  }
}
export function descendants(pid) {
  const all = spawnSync("ps", ["-e", "-o", "pid=,ppid="], { encoding: "utf8" }).stdout.trim().split("\n")
    .map((l) => l.trim().split(/\s+/).map(Number));
  const out = new Set([pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const [p, pp] of all) if (out.has(pp) && !out.has(p)) { out.add(p); grew = true; }
  }
  return [...out];
}
export const cpuSum = (pids) => pids.reduce((a, p) => a + cpuOf(p).self, 0);
/* Busy seconds of the machine, in all and per CPU (/proc/stat: all but idle and iowait). */
export function machineBusy() {
  const out = {};
  for (const l of readFileSync("/proc/stat", "utf8").split("\n")) {
    const m = /^(cpu\d*)\s+(.*)$/.exec(l);
    if (!m) continue;
    const v = m[2].split(/\s+/).map(Number);
    out[m[1]] = (v.slice(0, 8).reduce((a, b) => a + b, 0) - v[3] - v[4]) / HZ;
  }
  return out;
}

/* A CPU profile of the page (CDP Profiler): self and total time per function, named from
 * the build's source maps (original file:line and name), printed and written beside it. */
export function profileReport(profile, appDir, label, outDir) {
  const maps = new Map();
  const mapOf = (url) => {
    if (!maps.has(url)) {
      let m = null;
      try {
        const f = join(appDir, new URL(url).pathname.replace(/^\//, "")) + ".map";
        if (existsSync(f)) m = new SourceMap(JSON.parse(readFileSync(f, "utf8")));
      } catch { m = null; }
      maps.set(url, m);
    }
    return maps.get(url);
  };
  const nameOf = (cf) => {
    if (!cf.url) return cf.functionName || "(anonymous)";
    const m = mapOf(cf.url);
    const e = m?.findEntry(cf.lineNumber, cf.columnNumber);
    if (e && e.originalSource) {
      const src = e.originalSource.replace(/^.*node_modules\//, "").replace(/^.*?\/src\//, "src/");
      return `${cf.functionName || e.name || "(anonymous)"} ${src}:${e.originalLine + 1}`;
    }
    return `${cf.functionName || "(anonymous)"} ${new URL(cf.url).pathname}`;
  };
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map();
  const total = new Map();
  let all = 0;
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const dt = (profile.timeDeltas[i + 1] ?? 0) / 1000; /* ms until the next sample */
    all += dt;
    const n = byId.get(id);
    const key = nameOf(n.callFrame);
    self.set(key, (self.get(key) ?? 0) + dt);
    if (key === "(idle)") return;
    busy += dt;
    const seen = new Set();
    for (let x = id; x !== undefined; x = parent.get(x)) {
      const k = nameOf(byId.get(x).callFrame);
      if (seen.has(k)) continue;
      seen.add(k);
      total.set(k, (total.get(k) ?? 0) + dt);
    }
  });
  const top = (m, n) => [...m].filter(([k]) => !["(root)", "(idle)"].includes(k)).sort((a, b) => b[1] - a[1]).slice(0, n);
  const lines = [`profile ${label}: ${all.toFixed(0)} ms sampled, main thread busy ${busy.toFixed(0)} ms (${(100 * busy / all).toFixed(1)}%)`,
    "self time:", ...top(self, 20).map(([k, v]) => `  ${v.toFixed(0).padStart(7)} ms  ${(100 * v / busy).toFixed(1).padStart(5)}%  ${k}`),
    "total time:", ...top(total, 25).map(([k, v]) => `  ${v.toFixed(0).padStart(7)} ms  ${(100 * v / busy).toFixed(1).padStart(5)}%  ${k}`)];
  writeFileSync(join(outDir, `${label}.txt`), `${lines.join("\n")}\n`);
  console.log(lines.join("\n"));
}

/* Prints rows (the first is the header) as a table: the first column left, the rest right. */
export function printTable(rows) {
  const width = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  console.log("\n" + rows.map((r, j) => r.map((c, i) => (i ? c.padStart(width[i]) : c.padEnd(width[i]))).join(" | ") +
    (j === 0 ? "\n" + width.map((w) => "-".repeat(w)).join("-|-") : "")).join("\n"));
}

/* A meter of the CPU taken meanwhile, in cores: by the whole machine (/proc/stat) and by the
 * rest of it, less this process and its descendants (veilled, chromium, the CLI...). */
export function cpuMeter() {
  const tree = () => [...descendants(process.pid)].reduce((a, p) => {
    const c = cpuOf(p);
    return a + c.self + c.children;
  }, 0);
  const m0 = machineBusy().cpu;
  const t0 = tree();
  const w0 = performance.now();
  return () => {
    const s = (performance.now() - w0) / 1000;
    if (s < 1) return { machine: NaN, others: NaN }; /* a phase that did not run */
    const machine = machineBusy().cpu - m0;
    return { machine: machine / s, others: Math.max(0, machine - (tree() - t0)) / s };
  };
}

/* The CPUs pid may run on, as taskset prints them ("0", "1", "0,1"). */
export const affinity = (pid) => spawnSync("taskset", ["-c", "-p", String(pid)], { encoding: "utf8" }).stdout.trim().replace(/^.*: /, "");

/* Moves pid (veilled, all its threads) to cpu. */
export function pin(pid, cpu) {
  const r = spawnSync("taskset", ["-a", "-p", "-c", cpu, String(pid)], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`taskset ${pid}: ${r.stderr}`);
}
