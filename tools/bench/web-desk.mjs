#!/usr/bin/env node
// web-desk.mjs: the driver of tools/bench/web-desk, the desk app's benchmark of issue 12
// ("Performance"; figures and method in docs/BENCHMARKS.md, "Desk app (issue 12)"). Not a
// test: never in ctest. Run through tools/bench/web-desk, which builds, pins this process (and
// so the browser and the load, its children) to one CPU and veilled to the other.
//
// 1. Data: a fresh veilled (tests/web/harness.mjs startServer), territory 75 with a SIAO,
//    CENTRES centres (structure add --lat/--lon inside Paris's bounding box, --address, kind
//    chrs/chu/cph, `centre capacity` for 2 to 4 categories each), a coordinateur_siao (the
//    browser's pairing code), a responsable_centre per declaring centre with an enrolled
//    `veille` CLI device (DECLARERS, default all), one declaration from each, and a maraude
//    with a few open shelter requests (the SIAO's queue).
// 2. veilled is moved to CPU VEILLED_CPU (taskset -a -p); this process, chromium and the CLI
//    declarations stay where the wrapper put them.
// 3. First view, cold cache, RUNS times: a new page of the enrolled browser context, its HTTP
//    cache cleared and disabled (CDP Network.clearBrowserCache, Network.setCacheDisabled),
//    then (a) navigation start -> the sign-in screen's first button painted, and (b) the PIN's
//    submit -> the SIAO desk usable (a marker per centre on the map, the table of CENTRES
//    centres with its rows drawn, the queue shown, the link live) and painted. Timed in the
//    page (performance.now(), PerformanceNavigationTiming, paint entries).
// 4. Frame budget: the desk signed in, a declaration every INTERVAL_MS ms from the CLI
//    devices (cycling the centres, random counts within capacity) for DURATION s; the app
//    calls __veilleBench.onDelta(t0) after applying each places delta (src/state/places.ts);
//    the page times it to the next frame painted (requestAnimationFrame, then setTimeout 0;
//    performance.measure "veille-delta"), and separately to the frame painted after the map's
//    marker was redrawn (markers are drawn on a canvas by Leaflet, in an animation frame: the
//    page hooks the canvas's fillText to see when),
//    with the split into script, wait for the frame and the frame's work, and by whether the
//    delta's table row is drawn. Long tasks (PerformanceObserver "longtask") and long
//    animation frames during the window; deltas received against declarations made; CPU
//    shares from /proc. Then once more with the CPU throttled THROTTLE times (CDP
//    Emulation.setCPUThrottlingRate).
// 5. The JavaScript of the desk views: dist/sizes.json (written by the build) and the files
//    the browser actually fetched in a cold run (gzip -9 of each, as sizes.json does).
// 6. PROFILE=1: then PROFILE_SECONDS (20) more of the same load, unthrottled and throttled,
//    under Chromium's sampling profiler and tracing (CDP; not timed): self and total time per
//    function, named through the build's source maps, and the main thread's time per trace
//    event; the .cpuprofile, the trace and the tables are written to the output directory.
//
// Environment: CENTRES (500), DECLARERS (all centres), RUNS (5), DURATION (60 s),
// INTERVAL_MS (100), THROTTLE (4; 0 skips the throttled run), VEILLED_CPU (0), SEED (12),
// PROFILE, PROFILE_SECONDS, TRACE_CATEGORIES, LOAD_CPU (runs the declarations' CLI processes on that CPU instead
// of the browser's), RESULTS (a JSON file for the results). Prints key=value lines, then a
// summary table. Screenshots go to VEILLE_TEST_OUT (tests/web/harness.mjs).
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import {
  launchBrowser, log, newContext, run, screenshot, sleep, startServer, step, trackErrors, waitFor,
  SOURCE_DIR, TEST_OUT, VEILLE_CLI, WEB_DIST,
} from "../../tests/web/harness.mjs";
import { enrol, signIn, signOut } from "../../tests/web/desk.mjs";
import {
  affinity, cpuOf, cpuSum, descendants, f0, f1, kib, kv, machineBusy, out, pin, printTable, profileReport, summary,
} from "./web-common.mjs";

/* PROFILE=1's trace: DevTools' timeline by default; TRACE_CATEGORIES (comma-separated) for
 * more, e.g. "cc,viz,gpu,blink" to see the compositor's side of a frame. */
const TRACE_CATEGORIES = (process.env.TRACE_CATEGORIES || "devtools.timeline,disabled-by-default-devtools.timeline,v8").split(",");

const int = (name, def) => {
  const v = process.env[name];
  if (v === undefined || v === "") return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name}=${v}: a non-negative number, please`);
  return n;
};
const CENTRES = int("CENTRES", 500);
const DECLARERS = Math.min(CENTRES, int("DECLARERS", CENTRES));
const RUNS = Math.max(1, int("RUNS", 5));
const DURATION = int("DURATION", 60);
const INTERVAL_MS = Math.max(1, int("INTERVAL_MS", 100));
const THROTTLE = int("THROTTLE", 4);
const VEILLED_CPU = process.env.VEILLED_CPU ?? "0";
const SEED = int("SEED", 12);
const PROFILE = int("PROFILE", 0) > 0;
const PROFILE_SECONDS = int("PROFILE_SECONDS", 20);
const OUT_DIR = TEST_OUT;
const LOAD_CPU = process.env.LOAD_CPU || undefined;
const PIN = "482916";
const COORDINATOR = "Hélène Bench-Coordination";
const CATEGORIES = ["homme_seul", "femme_seule", "couple", "famille", "jeune_18_25", "pmr", "animal"];
const KINDS = ["chrs", "chu", "cph"];
/* Paris (75): its bounding box, WGS84 */
const LAT = [48.8156, 48.9022];
const LON = [2.2242, 2.4699];
const STREETS = ["de Belleville", "de la Roquette", "des Pyrénées", "de Tolbiac", "de Vaugirard", "Saint-Maur",
  "du Faubourg-Saint-Denis", "de Charonne", "d'Alésia", "Championnet", "de Crimée", "Oberkampf", "de Rivoli",
  "Lecourbe", "de Clignancourt", "Didot"];
const NAMES = ["Les Tilleuls", "La Boussole", "Le Relais", "L'Escale", "Les Glycines", "Le Phare", "La Passerelle",
  "Les Lilas", "Le Fil d'Ariane", "La Halte", "L'Abri", "Le Pont-Neuf"];

/* A small deterministic PRNG (mulberry32): the same data set for the same SEED. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = prng(SEED);
const randInt = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1)); /* inclusive */

/* ---- what runs in the page, before the app (context.addInitScript) ---- */
function benchInit(expect) {
  const perf = performance;
  const painted = (cb) => requestAnimationFrame(() => setTimeout(cb));
  const B = {
    expect,
    deltas: [],
    longtasks: [],
    buttonAt: 0, /* the sign-in screen's first button in the DOM */
    buttonPainted: 0, /* ... and the frame holding it painted */
    submitAt: 0,
    steps: {}, /* after the PIN's submit: the first frame where each part of the desk showed */
    usableSeen: 0,
    usableAt: 0,
  };
  B.loafs = [];
  try {
    new PerformanceObserver((l) => {
      for (const e of l.getEntries()) B.longtasks.push([e.startTime, e.duration]);
    }).observe({ type: "longtask", buffered: true });
    /* frames over 50 ms, with what ran in them (Long Animation Frames) */
    new PerformanceObserver((l) => {
      for (const e of l.getEntries()) {
        const end = e.startTime + e.duration;
        B.loafs.push({
          start: e.startTime,
          duration: e.duration,
          render: e.renderStart ? end - e.renderStart : 0,
          styleLayout: e.styleAndLayoutStart ? end - e.styleAndLayoutStart : 0,
          scripts: e.scripts.map((x) => ({ invoker: x.invoker, fn: x.sourceFunctionName, duration: x.duration,
            forced: x.forcedStyleAndLayoutDuration })),
        });
      }
    }).observe({ type: "long-animation-frame", buffered: true });
  } catch { /* no long task or long animation frame timing */ }

  /* (a) the sign-in screen: the first professional's button */
  const seek = new MutationObserver(() => {
    if (B.buttonAt || !document.querySelector("button.account")) return;
    B.buttonAt = perf.now();
    seek.disconnect();
    painted(() => { B.buttonPainted = perf.now(); });
  });
  seek.observe(document, { childList: true, subtree: true });
  setTimeout(() => seek.disconnect(), 30000); /* a page that never shows it (enrolment) */

  /* (b) from the PIN's submit to the desk usable, checked once per frame */
  const parts = {
    unlocked: () => !document.querySelector("#pin"),
    live: () => !!document.querySelector(".link--live"),
    table: () => (document.querySelector("table.centres caption")?.textContent ?? "").includes(`${expect} centres`) &&
      !!document.querySelector("table.centres tr.centre-row"),
    markers: () => Number(document.querySelector(".centres-map__box")?.getAttribute("data-markers")) >= expect,
    queue: () => !!document.querySelector(".queue .queue__list, .queue .queue__empty"),
  };
  document.addEventListener("submit", (e) => {
    if (!(e.target instanceof HTMLFormElement) || !e.target.querySelector("#pin")) return;
    B.submitAt = perf.now();
    B.steps = {};
    B.usableSeen = 0;
    B.usableAt = 0;
    const t0 = B.submitAt;
    const check = () => {
      const now = perf.now();
      let all = true;
      for (const [k, f] of Object.entries(parts)) {
        if (B.steps[k]) continue;
        if (f()) B.steps[k] = now - t0;
        else all = false;
      }
      if (all) {
        B.usableSeen = now;
        setTimeout(() => { B.usableAt = perf.now(); }); /* after this frame's paint */
      } else if (now - t0 < 60000) requestAnimationFrame(check);
    };
    requestAnimationFrame(check);
  }, true);

  /* (4) each places delta to the frame that shows it. The map's markers are drawn on a
   * canvas (Leaflet's renderer, in an animation frame): a marker redrawn is seen as the
   * canvas's fillText of its number, and painted with the frame it was drawn in. */
  let pending = null;
  const fillText = CanvasRenderingContext2D.prototype.fillText;
  CanvasRenderingContext2D.prototype.fillText = function (...args) {
    const r = pending;
    if (r && !r.mut) {
      r.mut = perf.now();
      r.mapFrame = document.timeline.currentTime;
      setTimeout(() => { r.mapPaint = perf.now(); }); /* after the frame it was drawn in */
    }
    return fillText.apply(this, args);
  };
  B.onDelta = (t0) => {
    const r = { t0, script: 0, raf: 0, frame: 0, paint: 0, mut: 0, mapFrame: 0, mapPaint: 0 };
    B.deltas.push(r);
    /* after Preact's render of the change (a microtask queued before this one) */
    queueMicrotask(() => queueMicrotask(() => { r.script = perf.now(); }));
    pending = r;
    requestAnimationFrame((ts) => {
      r.raf = perf.now();
      r.frame = ts;
      setTimeout(() => {
        r.paint = perf.now();
        perf.measure("veille-delta", { start: t0, end: r.paint });
      });
    });
  };
  window.__veilleBench = B;
}

const bench = (page, fn, arg) => page.evaluate(fn, arg);

/* A Chromium trace (devtools.timeline): time per event on the page's main thread, summed by
 * name (inclusive: a Layout forced inside a FunctionCall counts in both). */
function traceReport(trace, label) {
  const events = trace.traceEvents ?? trace;
  const mains = new Set(events.filter((e) => e.ph === "M" && e.name === "thread_name" && e.args?.name === "CrRendererMain")
    .map((e) => `${e.pid}:${e.tid}`));
  const per = new Map();
  for (const e of events) {
    const k = `${e.pid}:${e.tid}`;
    if (!mains.has(k) || e.ph !== "X" || !e.dur) continue;
    if (!per.has(k)) per.set(k, new Map());
    const m = per.get(k);
    m.set(e.name, (m.get(e.name) ?? 0) + e.dur / 1000);
  }
  const [thread, m] = [...per].sort((a, b) => (b[1].get("RunTask") ?? 0) - (a[1].get("RunTask") ?? 0))[0] ?? [];
  if (!m) return;
  const seconds = PROFILE_SECONDS;
  const lines = [`trace ${label}: the page's main thread (${thread}), ms over ${seconds} s, inclusive, by event:`,
    ...[...m].sort((a, b) => b[1] - a[1]).slice(0, 22).map(([k, v]) => `  ${v.toFixed(0).padStart(7)} ms  ${k}`)];
  writeFileSync(join(OUT_DIR, `${label}-trace.txt`), `${lines.join("\n")}\n`);
  console.log(lines.join("\n"));
}

/* What took the time in the long animation frames: script time by invoker, and the frames'
 * own style, layout and paint (summed over the frames). */
function loafTop(loafs) {
  const by = new Map();
  const add = (k, v) => by.set(k, (by.get(k) ?? 0) + v);
  for (const l of loafs) {
    add("render (style, layout, paint)", l.render);
    for (const x of l.scripts) {
      add(`script ${x.invoker}`, x.duration);
      if (x.forced) add("forced style+layout in scripts", x.forced);
    }
  }
  return [...by].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([k, v]) => `${k}: ${v.toFixed(0)} ms`).join("; ");
}

run(async () => {
  const t0 = performance.now();
  /* The app as built now, copied: a rebuild during the run (another worker in the tree) must
   * not change what veilled serves under the page's feet. */
  const app = mkdtempSync(join(process.env.TMPDIR || tmpdir(), "web-desk-app-"));
  process.on("exit", () => rmSync(app, { recursive: true, force: true }));
  cpSync(WEB_DIST, app, { recursive: true }); /* with the source maps, for PROFILE=1 */
  const server = await step("start veilled", () => startServer({ web: app, lockSeconds: Math.max(600, 4 * DURATION + 300) }));
  pin(server.child.pid, VEILLED_CPU);
  log(`veilled pid ${server.child.pid} on CPU ${affinity(server.child.pid)}; this driver on CPU ${affinity(process.pid)}`);
  kv("veilled_cpus", affinity(server.child.pid));
  kv("client_cpus", affinity(process.pid));
  kv("load_cpus", LOAD_CPU ?? affinity(process.pid));

  /* ---- 1. data ---- */
  const centres = [];
  const tSeed = performance.now();
  await step(`seed: a SIAO and ${CENTRES} centres (veillectl)`, async () => {
    server.ctl(["structure", "add", "--id", "siao-75", "--name", "SIAO de Paris (bench)", "--kind", "siao", "--territory", "75"]);
    for (let i = 1; i <= CENTRES; i++) {
      const id = `c-${String(i).padStart(4, "0")}`;
      const kind = KINDS[randInt(0, KINDS.length - 1)];
      const lat = LAT[0] + rand() * (LAT[1] - LAT[0]);
      const lon = LON[0] + rand() * (LON[1] - LON[0]);
      const arr = randInt(1, 20);
      const address = `${randInt(1, 180)} rue ${STREETS[randInt(0, STREETS.length - 1)]}, 750${String(arr).padStart(2, "0")} Paris`;
      const name = `${kind.toUpperCase()} ${NAMES[randInt(0, NAMES.length - 1)]} ${i}`;
      const cats = [...CATEGORIES].sort(() => rand() - 0.5).slice(0, randInt(2, 4));
      const capacity = Object.fromEntries(cats.map((c) => [c, randInt(2, 30)]));
      server.ctl(["structure", "add", "--id", id, "--name", name, "--kind", kind, "--territory", "75",
        "--lat", lat.toFixed(6), "--lon", lon.toFixed(6), "--address", address]);
      server.ctl(["centre", "capacity", "--structure", id, ...cats.map((c) => `${c}=${capacity[c]}`)]);
      centres.push({ id, name, capacity });
    }
  });
  const tStructures = performance.now() - tSeed;
  const code = (args) => {
    const m = /^pairing_code=(\S+)$/m.exec(server.ctl(["professional", "add", ...args]));
    if (!m) throw new Error("veillectl printed no pairing code");
    return m[1];
  };
  const coordinatorCode = code(["--structure", "siao-75", "--name", COORDINATOR, "--role", "coordinateur_siao"]);
  const devices = join(server.dir, "devices");
  const declarers = centres.slice(0, DECLARERS);
  const declareArgs = (c) => ["places", "declare", ...Object.entries(c.capacity).map(([k, n]) => `${k}=${randInt(0, n)}`)];
  await step(`seed: ${DECLARERS} responsables with enrolled veille devices, one declaration each`, async () => {
    let next = 0;
    const worker = async () => {
      while (next < declarers.length) {
        const c = declarers[next++];
        c.dir = join(devices, c.id);
        const pc = code(["--structure", c.id, "--name", `Responsable ${c.id}`, "--role", "responsable_centre"]);
        await server.cli(c.dir, ["enrol", "--server", server.wsUrl, "--code", pc]);
        await server.cli(c.dir, declareArgs(c));
      }
    };
    await Promise.all([worker(), worker()]);
  });
  let requests = 0;
  await step("seed: a maraude and open shelter requests (the SIAO's queue)", async () => {
    server.ctl(["structure", "add", "--id", "maraude-75", "--name", "Maraude (bench)", "--kind", "equipe_mobile", "--territory", "75"]);
    const dir = join(devices, "maraudeur");
    await server.cli(dir, ["enrol", "--server", server.wsUrl, "--code", code(["--structure", "maraude-75", "--name", "Maraudeur (bench)", "--role", "maraudeur"])]);
    const urgencies = ["tonight", "days", "planned"];
    for (let i = 0; i < 6; i++) {
      const e = await server.cli(dir, ["encounter", "add", "--new-person", "--area", `Paris ${10 + i}e`, "--need", "shelter"]);
      const person = /person_id=(\S+)/.exec(e.stdout)?.[1];
      if (!person) throw new Error(`no person_id in: ${e.stdout}`);
      await server.cli(dir, ["request", "add", "--person", person, "--adults", String(1 + (i % 2)), "--urgency", urgencies[i % 3],
        "--category", i % 2 ? "couple" : "homme_seul", "--sync"]);
      requests++;
    }
  });
  const seedSeconds = (performance.now() - tSeed) / 1000;
  kv("centres", CENTRES);
  kv("declarers", DECLARERS);
  kv("open_requests", requests);
  kv("seed_structures_s", tStructures / 1000);
  kv("seed_total_s", seedSeconds);

  /* ---- the browser ---- */
  const browser = await launchBrowser();
  const chromiumVersion = browser.version();
  const context = await newContext(browser);
  await context.addInitScript(benchInit, CENTRES);
  const fetched = new Map(); /* path -> count, in the cold runs */
  let recordFetches = false;
  context.on("request", (r) => {
    if (!recordFetches) return;
    const u = new URL(r.url());
    if (u.origin === server.origin) fetched.set(u.pathname, (fetched.get(u.pathname) ?? 0) + 1);
  });
  const errors = [];
  const pageOf = async (label) => {
    const page = await context.newPage();
    const t = trackErrors(page, label);
    errors.push(t.errors);
    return page;
  };

  await step("enrol the coordinator in the browser (pairing code, PIN), sign out", async () => {
    const page = await pageOf("enrolment");
    await page.goto(server.url);
    await enrol(page, coordinatorCode, PIN);
    await signOut(page);
    await page.close();
  });

  /* ---- 3. first view from a cold cache ---- */
  const cold = [];
  for (let i = 1; i <= RUNS; i++) {
    await step(`first view, cold cache, run ${i}/${RUNS}`, async () => {
      const page = await pageOf(`cold ${i}`);
      const cdp = await context.newCDPSession(page);
      await cdp.send("Network.enable");
      await cdp.send("Network.clearBrowserCache");
      await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
      recordFetches = i === 1;
      await page.goto(server.url);
      await waitFor(() => bench(page, () => window.__veilleBench.buttonPainted), { timeout: 30000, what: "the sign-in screen" });
      const a = await bench(page, () => {
        const B = window.__veilleBench;
        const nav = performance.getEntriesByType("navigation")[0];
        const fcp = performance.getEntriesByName("first-contentful-paint")[0];
        return { button: B.buttonAt, painted: B.buttonPainted, responseEnd: nav.responseEnd,
          domContentLoaded: nav.domContentLoadedEventEnd, load: nav.loadEventEnd, fcp: fcp?.startTime ?? NaN };
      });
      await signIn(page, COORDINATOR.split(" ")[0], PIN);
      await waitFor(() => bench(page, () => window.__veilleBench.usableAt), { timeout: 60000, what: "the desk usable" });
      const b = await bench(page, () => {
        const B = window.__veilleBench;
        const res = performance.getEntriesByType("resource").map((e) => ({ name: new URL(e.name).pathname, size: e.encodedBodySize, transfer: e.transferSize, start: e.startTime, end: e.responseEnd }));
        return { submit: B.submitAt, usable: B.usableAt, steps: B.steps, res };
      });
      recordFetches = false;
      if (i === 1) await screenshot(page, "desk-first-view");
      const r = { a: a.painted, b: b.usable - b.submit, nav: a, steps: b.steps, res: b.res };
      r.sum = r.a + r.b;
      cold.push(r);
      log(`run ${i}: (a) sign-in screen ${f0(r.a)} ms (FCP ${f0(a.fcp)}, DOMContentLoaded ${f0(a.domContentLoaded)}), ` +
        `(b) PIN submit -> desk usable ${f0(r.b)} ms [${Object.entries(b.steps).map(([k, v]) => `${k} ${f0(v)}`).join(", ")}], sum ${f0(r.sum)} ms`);
      await cdp.send("Network.setCacheDisabled", { cacheDisabled: false });
      await signOut(page);
      await page.close();
    });
  }
  const med = (k) => summary(cold.map(k)).median;
  const firstView = {
    a: summary(cold.map((r) => r.a)),
    b: summary(cold.map((r) => r.b)),
    sum: summary(cold.map((r) => r.sum)),
    fcp: med((r) => r.nav.fcp),
    dcl: med((r) => r.nav.domContentLoaded),
    steps: Object.fromEntries(Object.keys(cold[0].steps).map((k) => [k, med((r) => r.steps[k])])),
  };
  kv("firstview_runs", RUNS);
  kv("firstview_signin_screen_ms_median", firstView.a.median);
  kv("firstview_signin_screen_ms_max", firstView.a.max);
  kv("firstview_fcp_ms_median", firstView.fcp);
  kv("firstview_domcontentloaded_ms_median", firstView.dcl);
  kv("firstview_pin_to_desk_ms_median", firstView.b.median);
  kv("firstview_pin_to_desk_ms_max", firstView.b.max);
  for (const [k, v] of Object.entries(firstView.steps)) kv(`firstview_pin_to_${k}_ms_median`, v);
  kv("firstview_usable_ms_median", firstView.sum.median);
  kv("firstview_usable_ms_max", firstView.sum.max);
  kv("firstview_usable_runs", cold.map((r) => f0(r.sum)).join(","));

  /* ---- 4. frame budget under load ---- */
  const loadRounds = [];
  /* A declaration by the centre's CLI device; LOAD_CPU runs it on another CPU than the
   * browser's (the default keeps it with the browser, the driver's CPU). */
  const declare = (c) => {
    if (LOAD_CPU === undefined) return server.cli(c.dir, declareArgs(c), { timeout: 15000, allowFail: true });
    return new Promise((ok) => {
      const child = spawn("taskset", ["-c", LOAD_CPU, VEILLE_CLI, "--dir", c.dir, ...declareArgs(c)], { stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      child.stdout.on("data", (d) => { stdout += d; });
      child.stderr.resume();
      const timer = setTimeout(() => child.kill("SIGKILL"), 15000);
      child.on("close", (status) => { clearTimeout(timer); ok({ status, stdout }); });
      child.on("error", () => { clearTimeout(timer); ok({ status: -1, stdout }); });
    });
  };
  const frameRound = async (label, rate, { duration = DURATION, profile = false } = {}) => {
    const page = await pageOf(label);
    const cdp = await context.newCDPSession(page);
    await page.goto(server.url);
    await signIn(page, COORDINATOR.split(" ")[0], PIN);
    await waitFor(() => bench(page, () => window.__veilleBench.usableAt), { timeout: 60000, what: "the desk usable" });
    await sleep(2000);
    if (rate > 1) await cdp.send("Emulation.setCPUThrottlingRate", { rate });
    await sleep(1000);
    const browserPids = descendants(process.pid).filter((p) => {
      try { return /chrom/i.test(readFileSync(`/proc/${p}/comm`, "utf8")); } catch { return false; }
    });
    const cpu0 = { veilled: cpuOf(server.child.pid).self, browser: cpuSum(browserPids), self: cpuOf(process.pid), machine: machineBusy() };
    if (profile) {
      await browser.startTracing(page, { categories: TRACE_CATEGORIES });
      await cdp.send("Profiler.enable");
      await cdp.send("Profiler.setSamplingInterval", { interval: 250 });
      await cdp.send("Profiler.start");
    }
    const from = await bench(page, () => {
      window.__veilleBench.deltas.length = 0;
      return performance.now();
    });
    /* the load: a declaration every INTERVAL_MS from the CLI devices, cycling the centres */
    const order = [...declarers].sort(() => rand() - 0.5);
    const made = [];
    const inflight = new Set();
    let skipped = 0;
    const start = performance.now();
    const end = start + duration * 1000;
    for (let k = 0; ; k++) {
      const at = start + k * INTERVAL_MS;
      if (at >= end) break;
      const wait = at - performance.now();
      if (wait > 0) await sleep(wait);
      if (inflight.size >= 20) { skipped++; continue; }
      const c = order[k % order.length];
      const s = performance.now();
      const p = declare(c).then((r) => {
        const seq = /declared seq=(\d+)/.exec(r.stdout)?.[1];
        made.push({ id: c.id, ok: r.status === 0 && !!seq, ms: performance.now() - s, seq: seq ? Number(seq) : 0 });
      }, () => made.push({ id: c.id, ok: false, ms: performance.now() - s, seq: 0 }));
      inflight.add(p);
      p.finally(() => inflight.delete(p));
    }
    await Promise.all([...inflight]);
    const loadSeconds = (performance.now() - start) / 1000;
    const ok = made.filter((m) => m.ok).length;
    /* the last deltas: bounded wait */
    await waitFor(async () => {
      const n = await bench(page, () => window.__veilleBench.deltas.filter((d) => d.paint).length);
      return n >= ok ? n : 0;
    }, { timeout: 5000, what: "the last deltas" }).catch(() => bench(page, () => window.__veilleBench.deltas.length));
    await sleep(300);
    const cpuProfile = profile ? (await cdp.send("Profiler.stop")).profile : null;
    const trace = profile ? await browser.stopTracing() : null;
    const cpu1 = { veilled: cpuOf(server.child.pid).self, browser: cpuSum(browserPids), self: cpuOf(process.pid), machine: machineBusy() };
    const res = await bench(page, (from) => {
      const B = window.__veilleBench;
      const to = performance.now();
      return {
        deltas: B.deltas,
        longtasks: B.longtasks.filter(([s]) => s >= from && s <= to),
        loafs: B.loafs.filter((l) => l.start >= from && l.start <= to),
        measures: performance.getEntriesByName("veille-delta").filter((m) => m.startTime >= from).length,
        window: to - from,
      };
    }, from);
    if (rate > 1) await cdp.send("Emulation.setCPUThrottlingRate", { rate: 1 });
    /* the table's rows drawn (its window: the page is not scrolled during the load) */
    const drawn = new Set(await bench(page, () => [...document.querySelectorAll("table.centres tr.centre-row")].map((r) => r.dataset.id)));
    await screenshot(page, `desk-under-load${rate > 1 ? `-x${rate}` : ""}`);
    await signOut(page);
    await page.close();
    /* Each delta's centre: deltas arrive in the order of their sequence numbers. A centre
     * whose row is drawn redraws it and highlights it for 2 s (a CSS animation, repainted
     * every frame): deltas are grouped by that. */
    const ids = made.filter((m) => m.ok).sort((a, b) => a.seq - b.seq).map((m) => m.id);
    const mapped = ids.length === res.deltas.length;
    res.deltas.forEach((x, i) => {
      x.id = mapped ? ids[i] : null;
      x.ownRow = mapped && drawn.has(x.id);
    });
    res.deltas.forEach((x, i) => {
      x.highlight = !x.ownRow && res.deltas.slice(Math.max(0, i - 40), i).some((y) => y.ownRow && x.t0 - y.t0 < 2000);
    });
    const d = res.deltas.filter((x) => x.paint);
    const seqs = made.filter((m) => m.ok).map((m) => m.seq).sort((a, b) => a - b);
    const r = {
      label,
      rate,
      declarations: made.length,
      declarationsOk: ok,
      skipped,
      seqGaps: seqs.slice(1).filter((s, i) => s !== seqs[i] + 1).length,
      loadSeconds,
      deltas: res.deltas.length,
      measured: d.length,
      measures: res.measures,
      toPaint: summary(d.map((x) => x.paint - x.t0)),
      toRaf: summary(d.map((x) => x.raf - x.t0)),
      frameWork: summary(d.map((x) => x.paint - x.raf)),
      script: summary(d.map((x) => x.script - x.t0)),
      wait: summary(d.map((x) => x.raf - x.script)),
      work: summary(d.map((x) => x.script - x.t0 + x.paint - x.raf)),
      toMarker: summary(d.filter((x) => x.mapPaint).map((x) => x.mut - x.t0)),
      toMap: summary(d.filter((x) => x.mapPaint).map((x) => x.mapPaint - x.t0)),
      /* the frame showing every change of the delta: its marker's, if it changed, else the next one */
      toDrawn: summary(d.map((x) => Math.max(x.paint, x.mapPaint) - x.t0)),
      mapFramesLater: summary(d.filter((x) => x.mapFrame).map((x) => Math.round((x.mapFrame - x.frame) / (1000 / 60)))),
      loafs: res.loafs.length,
      loafTop: loafTop(res.loafs),
      cli: summary(made.map((m) => m.ms)),
      longtasks: res.longtasks.length,
      longtaskMax: Math.max(0, ...res.longtasks.map(([, dur]) => dur)),
      longtaskTotal: res.longtasks.reduce((a, [, dur]) => a + dur, 0),
      cpuVeilled: (cpu1.veilled - cpu0.veilled) / loadSeconds,
      cpuBrowser: (cpu1.browser - cpu0.browser) / loadSeconds,
      cpuDriver: (cpu1.self.self - cpu0.self.self) / loadSeconds,
      cpuCli: (cpu1.self.children - cpu0.self.children) / loadSeconds,
      cpuMachine: Object.fromEntries(Object.keys(cpu1.machine).map((k) => [k, (cpu1.machine[k] - cpu0.machine[k]) / loadSeconds])),
      slowest: d.map((x) => ({ ms: x.paint - x.t0, at: x.t0 - d[0].t0, id: x.id, row: x.ownRow })).sort((a, b) => b.ms - a.ms).slice(0, 5),
      rowsDrawn: drawn.size,
      raw: res.deltas, /* each delta's timestamps (results.json) */
      byRow: mapped ? {
        ownRow: summary(d.filter((x) => x.ownRow).map((x) => x.paint - x.t0)),
        highlight: summary(d.filter((x) => x.highlight).map((x) => x.paint - x.t0)),
        neither: summary(d.filter((x) => !x.ownRow && !x.highlight).map((x) => x.paint - x.t0)),
      } : null,
    };
    const p = label.replace(/\W+/g, "_");
    if (cpuProfile) {
      writeFileSync(join(OUT_DIR, `${p}.cpuprofile`), JSON.stringify(cpuProfile));
      profileReport(cpuProfile, app, p, OUT_DIR);
      writeFileSync(join(OUT_DIR, `${p}.trace.json`), trace);
      traceReport(JSON.parse(trace.toString("utf8")), p);
      return; /* profiled: its timings are not the benchmark's */
    }
    loadRounds.push(r);
    kv(`${p}_declarations`, r.declarations);
    kv(`${p}_declarations_ok`, r.declarationsOk);
    kv(`${p}_declarations_skipped`, r.skipped);
    kv(`${p}_declaration_seq_gaps`, r.seqGaps);
    kv(`${p}_deltas_received`, r.deltas);
    kv(`${p}_deltas_measured`, r.measured);
    for (const [k, s] of [["delta_to_paint", r.toPaint], ["delta_to_frame_start", r.toRaf], ["delta_script", r.script],
      ["wait_for_frame", r.wait], ["frame_work", r.frameWork], ["delta_work", r.work], ["delta_to_marker_updated", r.toMarker],
      ["delta_to_map_paint", r.toMap], ["delta_to_drawn", r.toDrawn], ["map_frames_after_first", r.mapFramesLater],
      ["cli_declare", r.cli]]) {
      const u = k === "map_frames_after_first" ? "" : "_ms";
      kv(`${p}_${k}_count`, s.count);
      kv(`${p}_${k}${u}_median`, s.median);
      kv(`${p}_${k}${u}_p95`, s.p95);
      kv(`${p}_${k}${u}_p99`, s.p99);
      kv(`${p}_${k}${u}_max`, s.max);
      if (["delta_to_paint", "delta_work", "delta_to_map_paint", "delta_to_drawn"].includes(k)) kv(`${p}_${k}_over_16ms`, s.over16);
    }
    kv(`${p}_long_animation_frames`, r.loafs);
    kv(`${p}_long_animation_frames_top`, r.loafTop);
    kv(`${p}_longtasks`, r.longtasks);
    kv(`${p}_longtask_ms_max`, r.longtaskMax);
    kv(`${p}_longtask_ms_total`, r.longtaskTotal);
    kv(`${p}_cpu_veilled`, r.cpuVeilled);
    kv(`${p}_cpu_chromium`, r.cpuBrowser);
    kv(`${p}_cpu_driver`, r.cpuDriver);
    kv(`${p}_cpu_cli`, r.cpuCli);
    for (const [k, v] of Object.entries(r.cpuMachine)) kv(`${p}_busy_${k}`, v);
    kv(`${p}_cpu_others`, r.cpuMachine.cpu - r.cpuVeilled - r.cpuBrowser - r.cpuDriver - r.cpuCli);
    kv(`${p}_slowest_deltas`, r.slowest.map((x) => `${f1(x.ms)}ms@${f1(x.at / 1000)}s:${x.id}${x.row ? "(row drawn)" : ""}`).join(","));
    kv(`${p}_table_rows_drawn`, r.rowsDrawn);
    if (r.byRow) {
      for (const [k, v] of Object.entries(r.byRow)) {
        kv(`${p}_delta_to_paint_${k}_count`, v.count);
        kv(`${p}_delta_to_paint_${k}_ms_median`, v.median);
        kv(`${p}_delta_to_paint_${k}_ms_p99`, v.p99);
        kv(`${p}_delta_to_paint_${k}_ms_max`, v.max);
      }
    } else kv(`${p}_delta_centres`, "unknown (deltas and declarations differ in number)");
  };
  if (DURATION > 0) {
    await step(`frame budget: a declaration every ${INTERVAL_MS} ms for ${DURATION} s`, () => frameRound("load", 1));
    if (THROTTLE > 1)
      await step(`frame budget, CPU throttled x${THROTTLE}`, () => frameRound(`load_x${THROTTLE}`, THROTTLE));
    if (PROFILE)
      await step(`profile (not timed): ${PROFILE_SECONDS} s of the load under Chromium's sampling profiler`, () =>
        frameRound("profile", 1, { duration: PROFILE_SECONDS, profile: true }));
    if (PROFILE && THROTTLE > 1)
      await step(`profile (not timed), CPU throttled x${THROTTLE}`, () =>
        frameRound(`profile_x${THROTTLE}`, THROTTLE, { duration: PROFILE_SECONDS, profile: true }));
  }

  /* ---- 5. JavaScript sent ---- */
  const sizes = JSON.parse(readFileSync(join(app, "sizes.json"), "utf8"));
  const gz = (p) => {
    const f = join(app, p.replace(/^\//, ""));
    if (!existsSync(f)) return null;
    const data = readFileSync(f);
    return { raw: data.length, gzip: gzipSync(data, { level: 9 }).length };
  };
  const js = [...fetched.keys()].filter((p) => /\.m?js$/.test(p)).sort();
  const jsSizes = js.map((p) => ({ path: p, ...(gz(p) ?? { raw: NaN, gzip: NaN }) }));
  const worker = jsSizes.filter((f) => /keys-worker/.test(f.path));
  const page = jsSizes.filter((f) => !/keys-worker/.test(f.path) && Number.isFinite(f.raw));
  const sum = (l, k) => l.reduce((a, f) => a + f[k], 0);
  kv("js_sizes_json_firstpaint_gzip", sizes.firstPaint.gzip);
  kv("js_sizes_json_keysworker_gzip", sizes.keysWorker.gzip);
  kv("js_fetched", js.join(","));
  kv("js_fetched_page_raw", sum(page, "raw"));
  kv("js_fetched_page_gzip", sum(page, "gzip"));
  kv("js_fetched_worker_raw", sum(worker, "raw"));
  kv("js_fetched_worker_gzip", sum(worker, "gzip"));
  const transferred = cold[0].res.reduce((a, e) => a + (e.transfer || 0), 0);
  kv("firstview_bytes_transferred_page", transferred);

  const pageErrors = errors.flat();
  kv("page_errors", pageErrors.length);
  if (pageErrors.length) log(`errors seen in the pages:\n  ${pageErrors.slice(0, 20).join("\n  ")}`);

  /* ---- summary ---- */
  const pw = JSON.parse(readFileSync(join(SOURCE_DIR, "clients/web/node_modules/playwright-core/package.json"), "utf8")).version;
  const rows = [
    ["figure", "median", "p95", "p99", "max", "target"],
    [`(a) cold cache: navigation -> sign-in screen's first button painted (${RUNS} runs)`, f0(firstView.a.median), "", "", f0(firstView.a.max), ""],
    [`(b) PIN submit -> SIAO desk usable: ${CENTRES} markers, table, queue (${RUNS} runs)`, f0(firstView.b.median), "", "", f0(firstView.b.max), ""],
    ["first view usable, (a) + (b), cold cache", f0(firstView.sum.median), "", "", f0(firstView.sum.max), "< 2000 ms"],
  ];
  for (const r of loadRounds) {
    const t = r.rate > 1 ? `, CPU x${r.rate}` : "";
    rows.push([`delta applied -> next frame painted${t} (${r.measured} deltas)`, f1(r.toPaint.median), f1(r.toPaint.p95), f1(r.toPaint.p99), f1(r.toPaint.max), "p99 < 16 ms"]);
    rows.push([`  1. script: delta applied and rendered (Preact)${t}`, f1(r.script.median), f1(r.script.p95), f1(r.script.p99), f1(r.script.max), ""]);
    rows.push([`  2. wait for the next frame (vsync, other tasks)${t}`, f1(r.wait.median), f1(r.wait.p95), f1(r.wait.p99), f1(r.wait.max), ""]);
    rows.push([`  3. frame: rAF -> style, layout, paint done${t}`, f1(r.frameWork.median), f1(r.frameWork.p95), f1(r.frameWork.p99), f1(r.frameWork.max), ""]);
    rows.push([`main-thread work for a delta, 1 + 3${t}`, f1(r.work.median), f1(r.work.p95), f1(r.work.p99), f1(r.work.max), "p99 < 16 ms"]);
    if (r.byRow) {
      const b = r.byRow;
      rows.push([`  its centre's row drawn in the table (${b.ownRow.count})${t}`, f1(b.ownRow.median), f1(b.ownRow.p95), f1(b.ownRow.p99), f1(b.ownRow.max), ""]);
      rows.push([`  another drawn row highlighted, < 2 s (${b.highlight.count})${t}`, f1(b.highlight.median), f1(b.highlight.p95), f1(b.highlight.p99), f1(b.highlight.max), ""]);
      rows.push([`  neither (${b.neither.count})${t}`, f1(b.neither.median), f1(b.neither.p95), f1(b.neither.p99), f1(b.neither.max), ""]);
    }
    rows.push([`delta applied -> its map marker painted${t} (${r.toMap.count} deltas)`, f1(r.toMap.median), f1(r.toMap.p95), f1(r.toMap.p99), f1(r.toMap.max), ""]);
    rows.push([`delta applied -> drawn in table and map: the later of the two frames${t}`, f1(r.toDrawn.median), f1(r.toDrawn.p95), f1(r.toDrawn.p99), f1(r.toDrawn.max), "p99 < 16 ms"]);
    rows.push([`long tasks during the ${f0(r.loadSeconds)} s${t}`, `${r.longtasks}`, "", "", f0(r.longtaskMax), ""]);
    rows.push([`CPU busy, CPU 0 / CPU 1 / others' share${t} (1 = a core)`, `${r.cpuMachine.cpu0?.toFixed(2)} / ${r.cpuMachine.cpu1?.toFixed(2)} / ${(r.cpuMachine.cpu - r.cpuVeilled - r.cpuBrowser - r.cpuDriver - r.cpuCli).toFixed(2)}`, "", "", "", ""]);
    rows.push([`deltas received / declarations made${t}`, `${r.deltas} / ${r.declarationsOk}`, "", "", "", "all"]);
  }
  rows.push([`JS for the desk views, gzip -9 (sizes.json firstPaint: html, css, main js)`, kib(sizes.firstPaint.gzip), "", "", "", "< 400 KiB"]);
  rows.push([`JS fetched by the page in a cold run (${page.map((f) => f.path).join(" ")})`, kib(sum(page, "gzip")), "", "", "", "< 400 KiB"]);
  rows.push([`libsodium's key worker apart (sizes.json keysWorker)`, kib(sizes.keysWorker.gzip), "", "", "", ""]);
  printTable(rows);
  console.log(`\nms unless said; chromium ${chromiumVersion} (playwright-core ${pw}), node ${process.version}; ` +
    `veilled on CPU ${VEILLED_CPU}, chromium on CPU ${affinity(process.pid)}, the declarations on CPU ${LOAD_CPU ?? affinity(process.pid)}; ${CENTRES} centres, ` +
    `${DECLARERS} declaring; ${f0((performance.now() - t0) / 1000)} s in all`);
  if (process.env.RESULTS) {
    writeFileSync(process.env.RESULTS, JSON.stringify({ chromiumVersion, node: process.version, playwright: pw, CENTRES, DECLARERS,
      RUNS, DURATION, INTERVAL_MS, THROTTLE, seedSeconds, firstView, cold, loadRounds, sizes, jsSizes, kv: out }, null, 1));
    log(`results in ${process.env.RESULTS}`);
  }
});
