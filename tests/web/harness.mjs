// End-to-end test harness of the browser app: a real veilled serving the built app on a
// loopback port, data made by the real veillectl (and tools/demo-seed), Debian's chromium
// driven by playwright-core (nothing downloads a browser), axe-core for accessibility.
//
// Each tests/web/<name>.e2e.mjs is a plain Node script registered in ctest as web_<name>
// (tests/web/CMakeLists.txt), which passes the paths below in the environment. Run by hand
// after `cmake --build --preset default`: `node tests/web/smoke.e2e.mjs` (defaults to
// build/default). VEILLE_KEEP_TEST_DIRS=1 keeps the data directories and logs.
//
//   import { run, startServer, seedDemo, launchBrowser, newContext, ... } from "./harness.mjs";
//   run(async (t) => { const server = await startServer(); ... });
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, openSync, closeSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export { assert };

const HERE = dirname(fileURLToPath(import.meta.url));
export const SOURCE_DIR = process.env.VEILLE_SOURCE_DIR || resolve(HERE, "../..");
export const BUILD_DIR = process.env.VEILLE_BUILD_DIR || join(SOURCE_DIR, "build/default");
export const VEILLED = process.env.VEILLED || join(BUILD_DIR, "server/veilled");
export const VEILLECTL = process.env.VEILLECTL || join(BUILD_DIR, "tools/veillectl");
export const VEILLE_CLI = process.env.VEILLE_CLI || join(BUILD_DIR, "clients/c/veille");
export const WEB_DIST = process.env.VEILLE_WEB_DIST || join(BUILD_DIR, "clients/web/dist");
const TEST_NAME = basename(process.argv[1] ?? "test").replace(/\.e2e\.mjs$/, "");
export const TEST_OUT = process.env.VEILLE_TEST_OUT || join(BUILD_DIR, "tests/web/out", TEST_NAME);
export const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const KEEP = !!process.env.VEILLE_KEEP_TEST_DIRS;

// The browser packages come from clients/web's node_modules (tests/web has none of its own).
const webRequire = createRequire(join(SOURCE_DIR, "clients/web/package.json"));
const { chromium } = webRequire("playwright-core");
const AxeBuilder = webRequire("@axe-core/playwright").default;

/* ---- timing, waiting, reporting ---- */

const T0 = Date.now();
const stamp = () => `${((Date.now() - T0) / 1000).toFixed(2).padStart(7)} s`;
export const log = (...a) => console.log(`[${stamp()}]`, ...a);
export const warn = (...a) => console.log(`[${stamp()}] WARNING:`, ...a);
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Runs fn, printing its name and how long it took; returns fn's result. */
export async function step(name, fn) {
  const t = performance.now();
  log(`${name} ...`);
  try {
    const v = await fn();
    log(`${name}: ok (${Math.round(performance.now() - t)} ms)`);
    return v;
  } catch (e) {
    log(`${name}: FAILED (${Math.round(performance.now() - t)} ms)`);
    throw e;
  }
}

/** Milliseconds fn takes, printed with label (a figure the issue asks tests to print). */
export async function measure(label, fn) {
  const t = performance.now();
  await fn();
  const ms = performance.now() - t;
  log(`measured: ${label}: ${ms.toFixed(0)} ms`);
  return ms;
}

/** Polls cond() (sync or async) until it returns a truthy value, which it returns. */
export async function waitFor(cond, { timeout = 10000, interval = 50, what = "condition" } = {}) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await sleep(interval);
  }
}

/* Everything started here is stopped on exit, even on a failure or a signal. */
const cleanups = [];
const servers = [];
let cleaning = false;
/* Runs the cleanups, last first; false if one failed (veilled stopped badly, a sanitizer). */
async function cleanupAll() {
  if (cleaning) return true;
  cleaning = true;
  let ok = true;
  for (const c of cleanups.reverse()) {
    try { await c(); } catch (e) { console.error(`cleanup: ${e.message}`); ok = false; }
  }
  return ok;
}
process.on("exit", () => {
  // Last resort (synchronous): no veilled or chromium outlives the test.
  for (const s of servers) if (s.child && s.child.exitCode === null) s.child.kill("SIGKILL");
});
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, async () => { await cleanupAll(); process.exit(130); });
}

/**
 * The test's body: run(async () => { ... }). Prints the outcome and the time taken, stops
 * every server and browser, exits 0 on success, 1 on failure.
 */
export function run(main) {
  log(`${TEST_NAME}: start (outputs in ${TEST_OUT})`);
  main().then(async () => {
    const ok = await cleanupAll();
    log(`${TEST_NAME}: ${ok ? "PASSED" : "FAILED (at cleanup)"}`);
    process.exit(ok ? 0 : 1);
  }, async (e) => {
    console.error(e?.stack ?? e);
    for (const t of trackers) {
      if (t.errors.length) console.error(`errors seen in ${t.label}:\n  ${t.errors.join("\n  ")}`);
      // What the page showed when the test failed.
      await t.page.screenshot({ path: join(TEST_OUT, `failed-${t.label.replace(/\W+/g, "-")}.png`) }).catch(() => {});
    }
    await cleanupAll();
    log(`${TEST_NAME}: FAILED`);
    process.exit(1);
  });
}

/* ---- veilled ---- */

/* 1 if pid handles SIGTERM yet, 0 if not, -1 if /proc cannot tell: veilled writes its port
   file before installing its handler (see tests/integration/harness.c). */
function handlesSigterm(pid) {
  try {
    const m = /^SigCgt:\s*([0-9a-f]+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number((BigInt(`0x${m[1]}`) >> 14n) & 1n) : -1; // SIGTERM = 15
  } catch {
    return -1;
  }
}

function readPort(file) {
  try {
    const p = parseInt(readFileSync(file, "utf8"), 10);
    return p > 0 && p < 65536 ? p : 0;
  } catch {
    return 0;
  }
}

/* Runs a program to completion; rejects with its output if its status is not 0. */
export function exec(cmd, args, { timeout = 60000, allowFail = false } = {}) {
  return new Promise((ok, ko) => {
    const p = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "", stderr = "";
    p.stdout.on("data", (d) => { stdout += d; });
    p.stderr.on("data", (d) => { stderr += d; });
    const timer = setTimeout(() => p.kill("SIGKILL"), timeout);
    p.on("error", (e) => { clearTimeout(timer); ko(e); });
    p.on("close", (status, signal) => {
      clearTimeout(timer);
      const r = { status, signal, stdout, stderr };
      if ((status === 0 || allowFail)) ok(r);
      else ko(Object.assign(new Error(`${basename(cmd)} ${args.join(" ")}: ${signal ?? `status ${status}`}\n${stdout}${stderr}`), r));
    });
  });
}

/**
 * Starts veilled on 127.0.0.1, a free port, over a fresh data directory (veillectl init),
 * serving the built app. Options: lockSeconds (--lock-seconds), holdSeconds (--hold-seconds),
 * extraArgs (more veilled options), web (another app directory).
 * Returns { url: "http://127.0.0.1:PORT/", origin, wsUrl: "ws://127.0.0.1:PORT", port, data,
 * dir, log, stop(), kill(), restart(), ctl(args), cli(dir, args) }:
 *   stop()       SIGTERM, waits; rejects if veilled failed or a sanitizer spoke in its log;
 *   kill()       SIGKILL (a crash);
 *   restart()    starts again on the same port and data (after stop or kill);
 *   ctl(args)    runs `veillectl --data DATA ...args` synchronously, returns its stdout;
 *   cli(d, args) runs `veille --dir d ...args`, resolves to {status, stdout, stderr}
 *                (rejects on a non-zero status unless cli(d, args, {allowFail: true})).
 */
export async function startServer({ lockSeconds, holdSeconds, extraArgs = [], web = WEB_DIST } = {}) {
  for (const [what, p] of [["veilled", VEILLED], ["veillectl", VEILLECTL], ["the built app", join(web, "index.html")]]) {
    if (!existsSync(p)) throw new Error(`${what} not found at ${p}: build first (cmake --build --preset default)`);
  }
  const dir = mkdtempSync(join(process.env.TMPDIR || tmpdir(), "veille-web-"));
  if (KEEP) log(`test directory ${dir}`);
  const s = {
    dir,
    data: join(dir, "data"),
    log: join(dir, "veilled.log"),
    portFile: join(dir, "port"),
    port: 0,
    child: null,
  };
  const args = [...extraArgs];
  if (lockSeconds !== undefined) args.push("--lock-seconds", String(lockSeconds));
  if (holdSeconds !== undefined) args.push("--hold-seconds", String(holdSeconds));

  s.ctl = (ctlArgs) => {
    const r = spawnSync(VEILLECTL, ["--data", s.data, ...ctlArgs], { encoding: "utf8", timeout: 60000 });
    if (r.status !== 0) throw new Error(`veillectl ${ctlArgs.join(" ")}: status ${r.status}\n${r.stdout}${r.stderr}`);
    return r.stdout;
  };
  s.cli = (cliDir, cliArgs, opts) => exec(VEILLE_CLI, ["--dir", cliDir, ...cliArgs], opts);

  const launch = async (port, quiet) => {
    rmSync(s.portFile, { force: true });
    const fd = openSync(s.log, "a");
    const child = spawn(VEILLED, ["--data", s.data, "--listen", `127.0.0.1:${port}`, "--port-file", s.portFile,
      "--web", web, ...args], { stdio: ["ignore", fd, fd] });
    closeSync(fd);
    const end = Date.now() + 30000; // ASan builds start slowly
    let got = 0;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        if (!quiet) console.error(`veilled exited during start (${child.exitCode ?? child.signalCode}):\n${tail(s.log)}`);
        return false;
      }
      got ||= readPort(s.portFile);
      if (got && handlesSigterm(child.pid) !== 0) break;
      if (Date.now() > end) {
        child.kill("SIGKILL");
        throw new Error(`veilled did not start in time:\n${tail(s.log)}`);
      }
      await sleep(10);
    }
    s.child = child;
    s.port = got;
    s.origin = `http://127.0.0.1:${got}`;
    s.url = `${s.origin}/`;
    s.wsUrl = `ws://127.0.0.1:${got}`;
    return true;
  };

  s.stop = async () => {
    const c = s.child;
    if (!c) return;
    s.child = null;
    if (c.exitCode === null && c.signalCode === null) {
      c.kill("SIGTERM");
      const killer = setTimeout(() => c.kill("SIGKILL"), 15000);
      await new Promise((r) => c.once("exit", r));
      clearTimeout(killer);
    }
    const text = existsSync(s.log) ? readFileSync(s.log, "utf8") : "";
    if (c.exitCode !== 0 || /Sanitizer|runtime error:/.test(text)) {
      throw new Error(`veilled stopped badly (${c.exitCode ?? c.signalCode}):\n${tail(s.log)}`);
    }
  };
  s.kill = async () => {
    const c = s.child;
    if (!c) return;
    s.child = null;
    if (c.exitCode === null && c.signalCode === null) {
      c.kill("SIGKILL");
      await new Promise((r) => c.once("exit", r));
    }
  };
  s.restart = async () => {
    await s.stop();
    // Same port, so that the pages already open reconnect; it may take a moment to be free.
    const end = Date.now() + 10000;
    while (!(await launch(s.port, true))) {
      if (Date.now() > end) throw new Error(`veilled did not start again on port ${s.port}:\n${tail(s.log)}`);
      await sleep(100);
    }
  };

  servers.push(s);
  cleanups.push(async () => {
    try {
      await s.stop();
    } catch (e) {
      throw new Error(`${e.message}\n(test directory kept: ${s.dir})`);
    }
    if (!KEEP) rmSync(s.dir, { recursive: true, force: true });
  });
  s.ctl(["init"]);
  if (!(await launch(0, false))) throw new Error("veilled did not start");
  log(`veilled on ${s.url} (data ${s.data})`);
  return s;
}

function tail(file, lines = 40) {
  if (!existsSync(file)) return "(no log)";
  return readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
}

/**
 * Fills the running server with `make demo`'s data set (tools/demo-seed DATA BUILD URL), then
 * asks for fresh pairing codes (tools/demo-seed --codes DATA BUILD: lines
 * `code ROLE PROFESSIONAL_ID CODE`). Returns { codes: {professionalId: code},
 * roles: {professionalId: role}, byRole: {role: [professionalId...]}, devices, output }:
 * devices is the directory of the CLI devices demo-seed enrolled, one per professional
 * (server.cli(join(devices, "marc-petit"), ["places", "declare", ...])).
 */
export async function seedDemo(server) {
  const seed = join(SOURCE_DIR, "tools/demo-seed");
  const devices = join(server.dir, "devices");
  const r = await exec(seed, ["--devices", devices, server.data, BUILD_DIR, server.wsUrl], { timeout: 180000 });
  const c = await exec(seed, ["--codes", server.data, BUILD_DIR], { timeout: 60000 });
  const out = { codes: {}, roles: {}, byRole: {}, devices, output: r.stdout + c.stdout };
  for (const line of c.stdout.split("\n")) {
    const m = /^code\s+(\S+)\s+(\S+)\s+(\S+)\s*$/.exec(line);
    if (!m) continue;
    const [, role, id, code] = m;
    out.codes[id] = code;
    out.roles[id] = role;
    (out.byRole[role] ??= []).push(id);
  }
  if (!Object.keys(out.codes).length) throw new Error(`demo-seed --codes printed no code line:\n${c.stdout}${c.stderr}`);
  return out;
}

/* ---- chromium ---- */

const CHROMIUM_LAUNCH = {
  executablePath: CHROMIUM,
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
};

/** Debian's chromium, headless, quiet (no network of its own: no updates, sync, QUIC). */
export async function launchBrowser() {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found (Debian: apt-get install chromium)`);
  const browser = await chromium.launch(CHROMIUM_LAUNCH);
  cleanups.push(() => browser.close());
  return browser;
}

/* The pid of this process's child whose command line holds arg (/proc), or 0. */
function childWith(arg) {
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === process.pid && readFileSync(`/proc/${d}/cmdline`, "utf8").split("\0").includes(arg)) return Number(d);
    } catch {
      /* gone meanwhile */
    }
  }
  return 0;
}

/**
 * A chromium of its own on a profile directory that outlives it (IndexedDB, the service
 * worker and its caches): launchPersistentContext, with newContext's defaults and options
 * (e.g. offline: true). Returns { context, pid, kill() }: kill() SIGKILLs the browser process,
 * as a phone's system kills an app, and resolves once playwright saw it go; launch again
 * with the same directory to go on. Each test makes one with a fresh directory
 * (mkdtempSync).
 */
export async function launchPersistent(userDataDir, { viewport = { width: 1280, height: 800 }, ...rest } = {}) {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found (Debian: apt-get install chromium)`);
  const context = await chromium.launchPersistentContext(userDataDir, {
    ...CHROMIUM_LAUNCH, viewport, locale: "fr-FR", timezoneId: "Europe/Paris", ...rest,
  });
  const pid = childWith(`--user-data-dir=${userDataDir}`);
  if (!pid) {
    await context.close();
    throw new Error(`no chromium child of this process runs on ${userDataDir}`);
  }
  const closed = new Promise((r) => context.once("close", r));
  cleanups.push(() => context.close().catch(() => undefined));
  return {
    context,
    pid,
    async kill() {
      process.kill(pid, "SIGKILL");
      await closed;
      log(`chromium ${pid} killed (SIGKILL)`);
    },
  };
}

/** A browser context (one browser profile: its own storage) for a desk (1280x800 by default),
 *  French, Europe/Paris. axeCheck needs pages made from a context, not browser.newPage(). */
export function newContext(browser, { viewport = { width: 1280, height: 800 }, ...rest } = {}) {
  return browser.newContext({ viewport, locale: "fr-FR", timezoneId: "Europe/Paris", ...rest });
}

/**
 * Collects what goes wrong in a page: console errors, uncaught exceptions, failed requests and
 * HTTP errors. track.errors is the list; track.assertNone(label) fails the test if any. A
 * failing test prints what every tracked page collected.
 */
const trackers = [];
export function trackErrors(page, label = `page ${trackers.length + 1}`) {
  const errors = [];
  mkdirSync(TEST_OUT, { recursive: true });
  trackers.push({ label, errors, page });
  page.on("console", (m) => { if (m.type() === "error") errors.push(`console: ${m.text()}`); });
  page.on("pageerror", (e) => errors.push(`exception: ${e.message}`));
  page.on("requestfailed", (r) => errors.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ""}`));
  page.on("response", (r) => { if (r.status() >= 400) errors.push(`HTTP ${r.status()}: ${r.url()}`); });
  return {
    errors,
    assertNone(what = label) {
      assert.deepEqual(errors, [], `${what}: errors in the page:\n${errors.join("\n")}`);
    },
  };
}

/** Saves a PNG of the page's viewport as TEST_OUT/<name>.png; returns its path. */
export async function screenshot(page, name) {
  mkdirSync(TEST_OUT, { recursive: true });
  const path = join(TEST_OUT, `${name}.png`);
  await page.screenshot({ path });
  log(`screenshot ${path}`);
  return path;
}

/**
 * axe-core on the page as it is now (WCAG 2.1 A and AA rules): fails on any serious or
 * critical violation, prints the others. Returns axe's results.
 */
export async function axeCheck(page, label) {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  const show = (v) => `  [${v.impact}] ${v.id}: ${v.help} (${v.nodes.length}): ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`;
  const bad = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  const minor = results.violations.filter((v) => !bad.includes(v));
  if (minor.length) log(`axe ${label}: minor:\n${minor.map(show).join("\n")}`);
  assert.equal(bad.length, 0, `axe ${label}: serious or critical violations:\n${bad.map(show).join("\n")}`);
  log(`axe ${label}: ${results.passes.length} rules pass, ${results.violations.length} minor violations`);
  return results;
}
