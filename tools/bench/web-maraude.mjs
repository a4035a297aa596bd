#!/usr/bin/env node
// web-maraude.mjs: the driver of tools/bench/web-maraude, the phone app's benchmark of issue 13
// ("Performance"; figures and method in docs/BENCHMARKS.md, "Maraude phone app (issue 13)").
// Not a test: never in ctest. Run through tools/bench/web-maraude, which builds, installs the
// CouchDB peer and pins this process (and so chromium, the CLI and the peer, its children) to
// one CPU; veilled and pouchdb-server are moved to the other.
//
// "x4, Slow 3G": the page's CPU throttled 4 times (CDP Emulation.setCPUThrottlingRate) and its
// network shaped as DevTools' "Slow 3G" preset (CDP Network.emulateNetworkConditions: 2,000 ms
// of latency per request, which DevTools derives from a 400 ms round trip, and 50,000 bytes/s
// each way, 400 kbit/s). Both apply to the page's own work and requests (its WebSocket
// included), not to the key worker's thread nor to the service worker's own fetches.
//
// 1. Data: a fresh veilled (tests/web/harness.mjs startServer) on CPU VEILLED_CPU; one maraude
//    team (territory 75) whose seed device (the `veille` CLI) makes PERSONS persons, then
//    pushes N encounters of about 1 KiB (veille-bench sync --phase push: the notes, needs and
//    services of the sync benchmark, docs/BENCHMARKS.md issue 3).
// 2. The shell: dist/sizes.json (what the service worker precaches; what the first paint
//    needs; the key worker apart) and the bytes the browser received on a first visit.
// 3. First visit, VISITS times: a fresh browser context (no service worker, empty caches),
//    x4, Slow 3G: navigation -> the enrolment screen usable; the bytes received.
// 4. First pull: a phone enrols (pairing code, PIN) and its round opens, which pulls the N +
//    PERSONS records into its IndexedDB, loopback network, CPU x1, then another phone with the
//    CPU x4: from the WebSocket opened to the IndexedDB transaction holding the last record
//    committed (the page's IndexedDB and WebSocket are watched by an init script). The bytes
//    of the WebSocket messages both ways, with their frame headers, per record pulled.
// 5. The C client: PULLS fresh `veille` devices of the same team each run `veille sync`, the
//    same records into their LMDB; timed from spawn to exit.
// 6. Cold open, RUNS times, x4, Slow 3G: the phone's page closed, its service worker stopped
//    (CDP ServiceWorker.stopAllWorkers), a new page of the same context opens /maraude/:
//    (a) navigation -> PIN screen usable (the PIN field and "Ouvrir" painted);
//    (b) PIN submitted -> round usable ("Nouvelle rencontre" painted);
//    (c) "Nouvelle rencontre" tapped -> the encounter form painted.
// 7. Warm open, RUNS times, same page, x4, Slow 3G: "Verrouiller", then (b) and (c) again.
// 8. Encounters saved offline, SAVES times, CPU x4, network cut (context.setOffline, the page
//    reloaded from its service worker): a known person found by the search, a need, a note,
//    "Enregistrer la rencontre" tapped -> the IndexedDB transaction writing it to the outbox
//    complete (and -> the confirmation painted); the driver only reads the page's record
//    meanwhile. Then the network back: the push of the SAVES encounters, its bytes per record.
// 9. CouchDB replication of the same documents: the N encounters as `veille pull` prints
//    them, written as JSON documents (pouch-bench.mjs's shape, _id the record id) into a
//    PouchDB client that replicates them to a pouchdb-server (on VEILLED_CPU), then a fresh
//    PouchDB replicates them back: pouch-bench.mjs --mode repl --docs, with PouchDB's default
//    batches (with and without gzip: pouchdb-server compresses when asked, and PouchDB asks)
//    and with batches of 1,000; its bytes per record are counted on its sockets.
// Each phase also reports the CPU the rest of the machine took meanwhile (cpuMeter).
// PROFILE=1: then, under Chromium's sampling profiler (not timed), a cold open (to the PIN
// screen, then to the form), a warm open, 10 saves offline and a first pull, reported by
// function through the build's source maps.
//
// Environment: N (10000), PERSONS (20), VISITS (3), RUNS (5), PULLS (3), SAVES (100),
// THROTTLE (4), VEILLED_CPU (0), PEER_DIR (build/bench-peer; SKIP_PEER=1 skips step 9),
// PROFILE, RESULTS (a JSON file for the results). Prints key=value lines, then a summary table.
import { spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  exec, launchBrowser, log, newContext, run, screenshot, sleep, startServer, step, trackErrors, waitFor,
  BUILD_DIR, SOURCE_DIR, TEST_OUT, VEILLE_CLI, WEB_DIST,
} from "../../tests/web/harness.mjs";
import { affinity, cpuMeter, f0, f1, kib, kv, out, pin, printTable, profileReport, summary } from "./web-common.mjs";

const int = (name, def) => {
  const v = process.env[name];
  if (v === undefined || v === "") return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name}=${v}: a non-negative integer, please`);
  return n;
};
const N = Math.max(1, int("N", 10000));
const PERSONS = Math.max(1, int("PERSONS", 20));
const VISITS = int("VISITS", 3);
const RUNS = Math.max(1, int("RUNS", 5));
const PULLS = Math.max(1, int("PULLS", 3));
const SAVES = int("SAVES", 100);
const THROTTLE = Math.max(1, int("THROTTLE", 4));
const VEILLED_CPU = process.env.VEILLED_CPU ?? "0";
const PEER_DIR = process.env.PEER_DIR || join(SOURCE_DIR, "build/bench-peer");
const SKIP_PEER = int("SKIP_PEER", 0) > 0;
const PROFILE = int("PROFILE", 0) > 0;
const OUT_DIR = TEST_OUT;
const PIN = "482916";
const RECORDS = N + PERSONS; /* what a phone of the team pulls */
/* DevTools' "Slow 3G" (its NetworkManager's presets, as puppeteer's PredefinedNetworkConditions) */
const SLOW_3G = { offline: false, latency: 400 * 5, downloadThroughput: (500 * 1000) / 8 * 0.8, uploadThroughput: (500 * 1000) / 8 * 0.8 };
/* The CouchDB replications of step 9: name, batch_size (0: PouchDB's defaults), gzip asked. */
const COUCH_RUNS = [["default", 0, true], ["default_identity", 0, false], ["1000", 1000, true]];
const COUCH_LABEL = { default: "PouchDB's default batches, gzip", default_identity: "default batches, not compressed", 1000: "batches of 1,000, gzip" };
const OPEN_NET = { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 };
const PHONE = { viewport: { width: 360, height: 640 }, hasTouch: true, isMobile: true, deviceScaleFactor: 2 };

/* ---- what runs in the page, before the app (context.addInitScript) ---- */
function benchInit(expectRecords) {
  const perf = performance;
  const B = { marks: {}, saves: [], ws: [], tx: [], recordsStored: 0, recordsDoneAt: 0 };
  window.__veilleBench = B;

  /* name: the first frame painted, after t0, where cond() holds (checked at each frame; the
   * setTimeout queued in a frame's callback runs once that frame is painted) */
  const watch = (name, t0, cond) => {
    const r = (B.marks[name] = { t0, seen: 0, painted: 0 });
    const check = () => {
      const now = perf.now();
      if (cond()) {
        r.seen = now;
        setTimeout(() => { r.painted = perf.now(); });
      } else if (now - t0 < 180000) requestAnimationFrame(check);
    };
    requestAnimationFrame(check);
  };
  const button = (text) => [...document.querySelectorAll("button")].find((b) => b.textContent.trim() === text && !b.disabled);
  watch("enrolScreen", 0, () => !!document.querySelector("#pairing-code") && !!button("Enrôler"));
  watch("pinScreen", 0, () => !!document.querySelector("#pin") && !!button("Ouvrir"));
  document.addEventListener("submit", (e) => {
    if (e.target instanceof HTMLFormElement && e.target.querySelector("#pin"))
      watch("unlock", perf.now(), () => !!button("Nouvelle rencontre"));
  }, true);
  document.addEventListener("click", (e) => {
    const b = e.target instanceof Element ? e.target.closest("button") : null;
    const text = b?.textContent.trim();
    if (text === "Nouvelle rencontre") watch("form", perf.now(), () => !!document.querySelector("#who"));
    if (text === "Enregistrer la rencontre") {
      const s = { t0: perf.now(), stored: 0, shown: 0 };
      B.saves.push(s);
      const check = () => {
        if ([...document.querySelectorAll(".notice")].some((n) => n.textContent.includes("Rencontre enregistrée"))) {
          setTimeout(() => { s.shown = perf.now(); });
        } else if (perf.now() - s.t0 < 60000) requestAnimationFrame(check);
      };
      requestAnimationFrame(check);
    }
  }, true);

  /* The WebSocket: when each connection opened, and the bytes of its messages both ways with
   * the frame header RFC 6455 gives each (a client's masked: 4 bytes more). */
  const header = (n, masked) => 2 + (n > 65535 ? 8 : n > 125 ? 2 : 0) + (masked ? 4 : 0);
  const size = (d) => d.byteLength ?? d.size ?? new TextEncoder().encode(String(d)).length;
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...a) {
      super(...a);
      const c = (this.bench = { openAt: 0, closeAt: 0, sent: 0, sentMsgs: 0, sentWire: 0, recv: 0, recvMsgs: 0, recvWire: 0 });
      B.ws.push(c);
      this.addEventListener("open", () => { c.openAt = perf.now(); });
      this.addEventListener("close", () => { c.closeAt = perf.now(); });
      this.addEventListener("message", (e) => {
        const n = size(e.data);
        c.recv += n;
        c.recvMsgs++;
        c.recvWire += n + header(n, false);
        c.lastRecvAt = perf.now();
      });
    }
    send(d) {
      const n = size(d);
      const c = this.bench;
      c.sent += n;
      c.sentMsgs++;
      c.sentWire += n + header(n, true);
      super.send(d);
    }
  };

  /* IndexedDB: each read-write transaction's stores and completion, and the records put. */
  const transaction = IDBDatabase.prototype.transaction;
  IDBDatabase.prototype.transaction = function (stores, mode, ...rest) {
    const tx = transaction.call(this, stores, mode, ...rest);
    if (mode === "readwrite") {
      const r = { stores: typeof stores === "string" ? [stores] : [...stores], start: perf.now(), done: 0, records: 0 };
      tx.__bench = r;
      tx.addEventListener("complete", () => {
        r.done = perf.now();
        B.tx.push(r);
        B.recordsStored += r.records;
        if (!B.recordsDoneAt && B.recordsStored >= expectRecords) B.recordsDoneAt = r.done;
      });
    }
    return tx;
  };
  const put = IDBObjectStore.prototype.put;
  IDBObjectStore.prototype.put = function (...a) {
    const r = this.transaction.__bench;
    if (r && this.name === "records") r.records++;
    return put.apply(this, a);
  };
}

const bench = (page, fn, arg) => page.evaluate(fn, arg);
const marks = (page) => bench(page, () => window.__veilleBench.marks);
const painted = (page, name, what, timeout = 120000) =>
  waitFor(() => bench(page, (n) => window.__veilleBench.marks[n]?.painted, name), { timeout, what });

/* A page of ctx with the CPU throttled and the network shaped (net: SLOW_3G or null) before
 * anything loads; its CDP session. */
async function throttledPage(ctx, label, { cpu = THROTTLE, net = SLOW_3G } = {}) {
  const page = await ctx.newPage();
  trackErrors(page, label);
  const cdp = await ctx.newCDPSession(page);
  if (cpu > 1) await cdp.send("Emulation.setCPUThrottlingRate", { rate: cpu });
  if (net) {
    await cdp.send("Network.enable");
    await cdp.send("Network.emulateNetworkConditions", net);
  }
  return { page, cdp };
}

/* The bytes the page received, from its Resource Timing (navigation included). */
const received = (page) => bench(page, () =>
  [...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource")]
    .map((e) => ({ path: new URL(e.name).pathname, transfer: e.transferSize, body: e.encodedBodySize, decoded: e.decodedBodySize })));

function freePort() {
  return new Promise((ok, ko) => {
    const s = createServer();
    s.on("error", ko);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

/* Runs cmd to its end (harness.mjs exec: rejects unless its status is 0); its output and wall
 * time. */
async function timed(cmd, args, { timeout = 600000 } = {}) {
  const t = performance.now();
  const r = await exec(cmd, args, { timeout });
  return { ...r, ms: performance.now() - t };
}

/* The enrolment of a phone in page (pairing code, PIN); resolves once the round is shown. */
async function enrolPhone(page, url, code) {
  await page.goto(url);
  await page.getByLabel("Code d'appairage").fill(code);
  await page.getByRole("button", { name: "Enrôler" }).click();
  await page.getByRole("heading", { name: "Choisissez votre code PIN" }).waitFor({ timeout: 60000 });
  await page.getByLabel("Code PIN", { exact: true }).fill(PIN);
  await page.getByLabel("Le même code PIN, encore").fill(PIN);
  await page.getByRole("button", { name: "Valider" }).click();
  await page.getByRole("button", { name: "Nouvelle rencontre" }).waitFor({ timeout: 60000 });
}

/* The phone's page opened again with the network cut. The page's own network conditions
 * (Slow 3G, from this driver's CDP session) would override playwright's offline ones: both
 * are cut. A WebSocket open stays open when the network is cut, hence the reload. */
async function reopenOffline(ctx, page, cdp) {
  await ctx.setOffline(true);
  await cdp.send("Network.emulateNetworkConditions", { ...OPEN_NET, offline: true });
  await page.reload();
  await page.getByLabel("Code PIN").fill(PIN);
  await page.getByRole("button", { name: "Ouvrir" }).click();
  await page.getByText(/^Hors ligne · dernière synchro/).waitFor({ timeout: 30000 });
}

/* n encounters through the form, each about a known person found by the search; the time of
 * each from the tap on "Enregistrer la rencontre" to its outbox transaction complete
 * (stored) and to the confirmation painted (shown), from the page's clock. Until then the
 * driver only reads the init script's record, every 100 ms: playwright's own waiting runs in
 * the page and would take the throttled main thread's time. */
async function saveEncounters(page, n) {
  const first = await bench(page, () => window.__veilleBench.saves.length);
  for (let i = 0; i < n; i++) {
    await page.getByRole("button", { name: "Nouvelle rencontre" }).click();
    await page.getByRole("searchbox", { name: "Qui rencontrez-vous ?" }).fill(`bench-${String((i % PERSONS) + 1).padStart(2, "0")}`);
    await page.locator("button.person").first().click();
    await page.getByRole("button", { name: "Boisson chaude" }).click();
    await page.getByLabel(/Note de l'équipe/).fill(`Passage ${i + 1} du benchmark, rien de particulier.`);
    await page.getByRole("button", { name: "Enregistrer la rencontre" }).click();
    await waitFor(() => bench(page, (k) => window.__veilleBench.saves[k]?.shown, first + i), { interval: 100, timeout: 30000, what: "the confirmation" });
  }
  return bench(page, (from) => {
    const B = window.__veilleBench;
    return B.saves.slice(from).map((s) => ({ ...s, stored: B.tx.find((t) => t.stores.includes("outbox") && t.start >= s.t0)?.done ?? 0 }));
  }, first);
}

/* fn() under Chromium's sampling profiler (CDP session cdp), reported as label. */
async function profiled(cdp, app, label, fn) {
  await cdp.send("Profiler.enable");
  await cdp.send("Profiler.setSamplingInterval", { interval: 200 });
  await cdp.send("Profiler.start");
  await fn();
  profileReport((await cdp.send("Profiler.stop")).profile, app, label, OUT_DIR);
}

/* The first pull of a phone whose round just opened: from its WebSocket opened to the
 * IndexedDB transaction holding the RECORDS-th record committed. */
async function firstPull(page, label) {
  await waitFor(() => bench(page, () => window.__veilleBench.recordsDoneAt), { timeout: 900000, interval: 500, what: `${label}: ${RECORDS} records stored` });
  const r = await bench(page, () => {
    const B = window.__veilleBench;
    /* the sync's connection, not the enrolment's: the one that brought the records */
    const ws = B.ws.reduce((a, c) => (c.recv > a.recv ? c : a));
    const pages = B.tx.filter((t) => t.records > 0);
    return { openAt: ws.openAt, doneAt: B.recordsDoneAt, stored: B.recordsStored, pages: pages.length,
      firstPageAt: pages[0]?.done, ws };
  });
  r.ms = r.doneAt - r.openAt;
  r.rate = (r.stored / r.ms) * 1000;
  const c = r.ws;
  r.bytes = { sent: c.sent, recv: c.recv, wire: c.sentWire + c.recvWire, msgs: c.sentMsgs + c.recvMsgs };
  log(`${label}: ${r.stored} records in ${f0(r.ms)} ms (${f0(r.rate)} records/s, ${r.pages} transactions, ` +
    `first after ${f0(r.firstPageAt - r.openAt)} ms); WebSocket ${r.bytes.wire} bytes with frame headers (${r.bytes.msgs} messages)`);
  return r;
}

run(async () => {
  const t0 = performance.now();
  const results = { N, PERSONS, VISITS, RUNS, PULLS, SAVES, THROTTLE, SLOW_3G };
  /* The app as built now, copied: a rebuild during the run must not change what is served. */
  const app = mkdtempSync(join(process.env.TMPDIR || tmpdir(), "web-maraude-app-"));
  process.on("exit", () => rmSync(app, { recursive: true, force: true }));
  cpSync(WEB_DIST, app, { recursive: true });
  const server = await step("start veilled", () => startServer({ web: app }));
  pin(server.child.pid, VEILLED_CPU);
  log(`veilled pid ${server.child.pid} on CPU ${affinity(server.child.pid)}; this driver on CPU ${affinity(process.pid)}`);
  kv("veilled_cpus", affinity(server.child.pid));
  kv("client_cpus", affinity(process.pid));

  /* ---- 1. data ---- */
  const devices = join(server.dir, "devices");
  const code = (name) => {
    const m = /^pairing_code=(\S+)$/m.exec(server.ctl(["professional", "add", "--structure", "maraude-75", "--name", name, "--role", "maraudeur"]));
    if (!m) throw new Error("veillectl printed no pairing code");
    return m[1];
  };
  const seedDir = join(devices, "seed");
  let seedPushBytes = NaN; /* a mutation's bytes in the seed's pushes (veille-bench) */
  const seedSeconds = await step(`seed: ${PERSONS} persons, then ${N} encounters (veille-bench)`, async () => {
    const t = performance.now();
    server.ctl(["structure", "add", "--id", "maraude-75", "--name", "Maraude de nuit (bench)", "--kind", "equipe_mobile", "--territory", "75"]);
    await server.cli(seedDir, ["enrol", "--server", server.wsUrl, "--code", code("Maraudeur seed")]);
    for (let i = 1; i <= PERSONS; i++)
      await server.cli(seedDir, ["person", "set", "--new-person", "--nickname", `Bench-${String(i).padStart(2, "0")}`, "--no-sync"]);
    await server.cli(seedDir, ["sync"]);
    const r = await timed(join(BUILD_DIR, "tools/bench/veille-bench"), ["sync", "--url", `${server.wsUrl}/sync`, "--ops", String(N),
      "--phase", "push", "--server-pid", String(server.child.pid), seedDir]);
    const pushed = /^push_ops=(\d+)$/m.exec(r.stdout)?.[1];
    if (Number(pushed) !== N) throw new Error(`veille-bench pushed ${pushed}, not ${N}:\n${r.stdout}${r.stderr}`);
    seedPushBytes = Number(/^push_record_bytes=(\d+)$/m.exec(r.stdout)?.[1]);
    return (performance.now() - t) / 1000;
  });
  kv("seed_push_record_bytes", seedPushBytes);
  kv("records", RECORDS);
  kv("seed_s", seedSeconds);
  /* The encounters as `veille pull` prints them, as CouchDB documents (step 9). */
  const docs = await step("the encounters, as JSON documents (veille pull)", async () => {
    const { stdout } = await timed(VEILLE_CLI, ["--dir", seedDir, "pull", "--from", "0", "--limit", "1000"]);
    const upper = (l) => l.map((x) => x.toUpperCase());
    const d = stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l)).filter((c) => c.kind === "encounter").map((c) => ({
      _id: c.record_id, type: "encounter", person_id: c.person_id, team_id: c.team_id, author_id: c.author_id,
      occurred_at_ms: c.occurred_at_ms, location: { area: c.area, geohash: c.geohash }, needs: upper(c.needs),
      services: upper(c.services), note: c.note,
    }));
    if (d.length !== N) throw new Error(`veille pull printed ${d.length} encounters, not ${N}`);
    return d;
  });

  /* ---- 2. the shell's sizes ---- */
  const sizes = JSON.parse(readFileSync(join(app, "sizes.json"), "utf8"));
  results.sizes = { shell: sizes.maraudeShell, firstPaint: sizes.maraudeFirstPaint, keysWorker: sizes.maraudeKeysWorker };
  kv("shell_gzip_bytes", sizes.maraudeShell.gzip);
  kv("shell_raw_bytes", sizes.maraudeShell.raw);
  kv("shell_firstpaint_gzip_bytes", sizes.maraudeFirstPaint.gzip);
  kv("shell_keysworker_gzip_bytes", sizes.maraudeKeysWorker.gzip);

  const browser = await launchBrowser();
  const chromiumVersion = browser.version();
  const url = `${server.url}maraude/`;
  const phoneContext = async () => {
    const ctx = await newContext(browser, PHONE);
    await ctx.addInitScript(benchInit, RECORDS);
    return ctx;
  };

  /* ---- 3. first visits ---- */
  const load = {}; /* phase -> the CPU the machine and the rest of it took (cpuMeter) */
  let meter = cpuMeter();
  const phaseDone = (name) => {
    load[name] = meter();
    kv(`${name}_others_cores`, load[name].others);
    meter = cpuMeter();
  };
  const visits = [];
  for (let i = 1; i <= VISITS; i++) {
    await step(`first visit ${i}/${VISITS}: fresh context, x${THROTTLE}, Slow 3G`, async () => {
      const ctx = await phoneContext();
      const { page } = await throttledPage(ctx, `visit ${i}`);
      await page.goto(url, { timeout: 120000 });
      await painted(page, "enrolScreen", "the enrolment screen");
      /* the service worker's precache (its own requests, not shaped) */
      await waitFor(() => bench(page, () => navigator.serviceWorker.ready.then(() => true)), { timeout: 120000, what: "the service worker" });
      const m = await marks(page);
      const res = await received(page);
      const nav = await bench(page, () => {
        const n = performance.getEntriesByType("navigation")[0];
        return { responseEnd: n.responseEnd, dcl: n.domContentLoadedEventEnd, fcp: performance.getEntriesByName("first-contentful-paint")[0]?.startTime };
      });
      const v = { ms: m.enrolScreen.painted, nav, bytes: res.reduce((a, e) => a + e.transfer, 0), res };
      visits.push(v);
      log(`first visit ${i}: enrolment screen usable at ${f0(v.ms)} ms (FCP ${f0(nav.fcp)}, DOMContentLoaded ${f0(nav.dcl)}); ` +
        `${v.bytes} bytes received: ${res.map((e) => `${e.path} ${e.transfer}`).join(", ")}`);
      if (i === 1) await screenshot(page, "first-visit");
      await ctx.close();
    });
  }
  results.visits = visits;
  phaseDone("visits");
  const visit = summary(visits.map((v) => v.ms));
  if (VISITS) {
    kv("first_visit_ms_median", visit.median);
    kv("first_visit_ms_max", visit.max);
    kv("first_visit_fcp_ms_median", summary(visits.map((v) => v.nav.fcp)).median);
    kv("first_visit_bytes_median", summary(visits.map((v) => v.bytes)).median);
  }

  /* ---- 4. first pulls: the phone (CPU x1), another (CPU xTHROTTLE) ---- */
  const phone = await phoneContext();
  meter = cpuMeter();
  let page = await phone.newPage();
  trackErrors(page, "phone");
  const pull1 = await step(`the phone enrols; its first pull of ${RECORDS} records, CPU x1`, async () => {
    await enrolPhone(page, url, code("Maraudeur phone"));
    return firstPull(page, "first pull, CPU x1");
  });
  await screenshot(page, "round-after-pull");
  const pullX = await step(`another phone: first pull, CPU x${THROTTLE}`, async () => {
    const ctx = await phoneContext();
    const { page: p } = await throttledPage(ctx, "phone x4", { net: null });
    await enrolPhone(p, url, code("Maraudeur phone x4"));
    const r = await firstPull(p, `first pull, CPU x${THROTTLE}`);
    await ctx.close();
    return r;
  });
  results.pulls = { x1: pull1, throttled: pullX };
  phaseDone("pulls");
  for (const [k, r] of [["x1", pull1], [`x${THROTTLE}`, pullX]]) {
    kv(`phone_pull_${k}_ms`, r.ms);
    kv(`phone_pull_${k}_records_per_s`, r.rate);
    kv(`phone_pull_${k}_transactions`, r.pages);
  }
  kv("phone_pull_wire_bytes", pull1.bytes.wire);
  kv("phone_pull_wire_bytes_per_record", pull1.bytes.wire / pull1.stored);
  kv("phone_pull_payload_bytes_per_record", (pull1.bytes.sent + pull1.bytes.recv) / pull1.stored);

  /* ---- 5. the C client ---- */
  const cPulls = [];
  for (let i = 1; i <= PULLS; i++) {
    await step(`C client ${i}/${PULLS}: \`veille sync\` of a fresh device`, async () => {
      const dir = join(devices, `cli-${i}`);
      await server.cli(dir, ["enrol", "--server", server.wsUrl, "--code", code(`Maraudeur CLI ${i}`)]);
      const r = await timed(VEILLE_CLI, ["--dir", dir, "sync"]);
      const stored = Number(/pulled (\d+)/.exec(r.stdout)?.[1]);
      if (stored !== RECORDS) throw new Error(`veille sync pulled ${stored}, not ${RECORDS}: ${r.stdout}`);
      cPulls.push({ ms: r.ms, stored, rate: (stored / r.ms) * 1000 });
      log(`C client: ${stored} records in ${f0(r.ms)} ms (${f0((stored / r.ms) * 1000)} records/s)`);
    });
  }
  results.cPulls = cPulls;
  phaseDone("c_pulls");
  const cPull = summary(cPulls.map((r) => r.rate));
  kv("c_pull_records_per_s_median", cPull.median);
  kv("c_pull_ms_median", summary(cPulls.map((r) => r.ms)).median);

  /* ---- 6. cold opens ---- */
  const colds = [];
  let cdp = null;
  for (let i = 1; i <= RUNS; i++) {
    await step(`cold open ${i}/${RUNS}: new page, service worker stopped, x${THROTTLE}, Slow 3G`, async () => {
      for (const p of phone.pages()) await p.close();
      ({ page, cdp } = await throttledPage(phone, `cold ${i}`));
      await cdp.send("ServiceWorker.enable");
      await cdp.send("ServiceWorker.stopAllWorkers");
      const res = await page.goto(url, { timeout: 120000 });
      if (!res?.fromServiceWorker()) throw new Error("the app was not answered by its service worker");
      await painted(page, "pinScreen", "the PIN screen");
      const nav = await bench(page, () => {
        const e = performance.getEntriesByType("navigation")[0];
        return { responseEnd: e.responseEnd, dcl: e.domContentLoadedEventEnd, fcp: performance.getEntriesByName("first-contentful-paint")[0]?.startTime };
      });
      log(`cold ${i}: index.html from the service worker at ${f0(nav.responseEnd)} ms, first paint ${f0(nav.fcp)}, DOMContentLoaded (module run) ${f0(nav.dcl)}`);
      colds.push({ nav, ...(await unlockAndForm(page, `cold ${i}`, (await marks(page)).pinScreen.painted)) });
    });
  }
  results.colds = colds;
  phaseDone("colds");

  /* PIN submitted -> round usable, then "Nouvelle rencontre" -> the form; the form closed. */
  async function unlockAndForm(p, label, a) {
    await p.getByLabel("Code PIN").fill(PIN);
    await p.getByRole("button", { name: "Ouvrir" }).click();
    await painted(p, "unlock", "the round");
    await p.getByRole("button", { name: "Nouvelle rencontre" }).click();
    await painted(p, "form", "the encounter form");
    const m = await marks(p);
    const r = { a, b: m.unlock.painted - m.unlock.t0, c: m.form.painted - m.form.t0 };
    r.sum = (a ?? 0) + r.b + r.c;
    log(`${label}: ${a !== undefined ? `(a) PIN screen ${f0(a)} ms, ` : ""}(b) PIN -> round ${f0(r.b)} ms, (c) tap -> form ${f0(r.c)} ms: ${f0(r.sum)} ms`);
    await p.getByRole("button", { name: "Annuler" }).click();
    await p.getByRole("button", { name: "Nouvelle rencontre" }).waitFor();
    return r;
  }

  /* ---- 7. warm opens ---- */
  const warms = [];
  for (let i = 1; i <= RUNS; i++) {
    await step(`warm open ${i}/${RUNS}: locked, then the PIN, x${THROTTLE}, Slow 3G`, async () => {
      await page.getByRole("button", { name: "Verrouiller" }).click();
      await page.getByRole("heading", { name: "Maraude verrouillée" }).waitFor();
      await sleep(500);
      warms.push(await unlockAndForm(page, `warm ${i}`, undefined));
    });
  }
  results.warms = warms;
  phaseDone("warms");
  const cold = { a: summary(colds.map((r) => r.a)), b: summary(colds.map((r) => r.b)), c: summary(colds.map((r) => r.c)), sum: summary(colds.map((r) => r.sum)) };
  const warm = { b: summary(warms.map((r) => r.b)), c: summary(warms.map((r) => r.c)), sum: summary(warms.map((r) => r.b + r.c)) };
  for (const [k, s] of [["cold_pin_screen", cold.a], ["cold_unlock", cold.b], ["cold_form", cold.c], ["cold_open", cold.sum],
    ["warm_unlock", warm.b], ["warm_form", warm.c], ["warm_open", warm.sum]]) {
    kv(`${k}_ms_median`, s.median);
    kv(`${k}_ms_max`, s.max);
  }

  /* ---- 8. encounters saved offline ---- */
  let saves = [];
  if (SAVES) {
    await step(`${SAVES} encounters saved offline, CPU x${THROTTLE}`, async () => {
      await reopenOffline(phone, page, cdp);
      saves = await saveEncounters(page, SAVES);
    });
  }
  results.saves = saves;
  phaseDone("saves");
  results.load = load;
  const saveStored = summary(saves.map((s) => s.stored - s.t0));
  const saveShown = summary(saves.map((s) => s.shown - s.t0));
  kv("save_stored_ms_median", saveStored.median);
  kv("save_stored_ms_p99", saveStored.p99);
  kv("save_stored_ms_max", saveStored.max);
  kv("save_shown_ms_median", saveShown.median);
  kv("save_shown_ms_p99", saveShown.p99);

  let push = null;
  if (SAVES) {
    push = await step(`network back (not shaped): the ${SAVES} encounters pushed`, async () => {
      const wsBytes = () => bench(page, () => window.__veilleBench.ws.map((c) => ({ out: c.sentWire, in: c.recvWire, msgs: c.sentMsgs + c.recvMsgs })));
      const before = await wsBytes();
      await cdp.send("Network.emulateNetworkConditions", OPEN_NET);
      await phone.setOffline(false);
      await page.getByText("Tout est reçu par le serveur").first().waitFor({ timeout: 120000 });
      await sleep(1000);
      /* the connection made once online: authentication, the push, the pull after it */
      const d = (await wsBytes()).map((c, i) => ({ out: c.out - (before[i]?.out ?? 0), in: c.in - (before[i]?.in ?? 0), msgs: c.msgs - (before[i]?.msgs ?? 0) }))
        .filter((c) => c.msgs);
      const wire = d.reduce((a, c) => a + c.out + c.in, 0);
      log(`push: ${d.map((c) => `${c.msgs} messages, ${c.out} bytes out, ${c.in} in`).join("; ")}`);
      return { wire, perRecord: wire / SAVES };
    });
    kv("phone_push_wire_bytes_per_record", push.perRecord);
  }

  /* ---- PROFILE=1: one cold and one warm open under the profiler (not timed) ---- */
  if (PROFILE) {
    await step("profile (not timed): a cold open, a warm open, 10 saves offline", async () => {
      for (const p of phone.pages()) await p.close();
      ({ page, cdp } = await throttledPage(phone, "profile"));
      await cdp.send("ServiceWorker.enable");
      await cdp.send("ServiceWorker.stopAllWorkers");
      await profiled(cdp, app, "profile_cold_pin", async () => {
        await page.goto(url, { timeout: 120000 });
        await painted(page, "pinScreen", "the PIN screen");
      });
      await profiled(cdp, app, "profile_cold_unlock", () => unlockAndForm(page, "profiled cold", undefined));
      await page.getByRole("button", { name: "Verrouiller" }).click();
      await page.getByRole("heading", { name: "Maraude verrouillée" }).waitFor();
      await profiled(cdp, app, "profile_warm", () => unlockAndForm(page, "profiled warm", undefined));
      await reopenOffline(phone, page, cdp);
      await profiled(cdp, app, "profile_saves", () => saveEncounters(page, 10));
    });
    await step("profile (not timed): a first pull, CPU x1", async () => {
      const ctx = await phoneContext();
      const { page: p, cdp: c } = await throttledPage(ctx, "profile pull", { cpu: 1, net: null });
      await profiled(c, app, "profile_pull", async () => {
        await enrolPhone(p, url, code("Maraudeur profile"));
        await firstPull(p, "profiled pull");
      });
      await ctx.close();
    });
  }
  await browser.close();

  /* ---- 9. CouchDB replication of the same documents ---- */
  const peer = {};
  if (!SKIP_PEER) {
    await step(`CouchDB replication of the same ${N} encounters (pouchdb-server, pouch-bench --mode repl --docs)`, async () => {
      const work = mkdtempSync(join(server.dir, "pouch-"));
      const docsFile = join(work, "docs.jsonl");
      writeFileSync(docsFile, docs.map((d) => JSON.stringify(d)).join("\n") + "\n");
      const dir = join(work, "server");
      mkdirSync(dir);
      const port = await freePort();
      const pouch = spawn(join(PEER_DIR, "node_modules/.bin/pouchdb-server"), ["--host", "127.0.0.1", "--port", String(port),
        "--dir", dir, "--config", join(dir, "config.json"), "-n", "--no-color"], { cwd: dir, stdio: "ignore" });
      try {
        await waitFor(() => fetch(`http://127.0.0.1:${port}/`).then((r) => r.ok, () => false), { timeout: 30000, what: "pouchdb-server" });
        pin(pouch.pid, VEILLED_CPU);
        for (const [k, batch, compress] of COUCH_RUNS) {
          const r = await timed(process.execPath, [join(SOURCE_DIR, "tools/bench/peer/pouch-bench.mjs"), "--mode", "repl",
            "--url", `http://127.0.0.1:${port}`, "--db", `bench-${k}`, "--docs", docsFile, "--clients", "1",
            "--modules", join(PEER_DIR, "node_modules"), "--local-dir", join(work, `local-${k}`), "--repl-batch-size", String(batch),
            "--server-pid", String(pouch.pid), ...(compress ? [] : ["--no-compress"])]);
          peer[k] = Object.fromEntries(r.stdout.split("\n").filter((l) => l.includes("=")).map((l) => l.split("=")));
          for (const f of ["pull_wire_bytes_per_record", "push_wire_bytes_per_record", "pull_records_per_s", "push_body_bytes"])
            kv(`couch_${k}_${f}`, Number(peer[k][`peer_repl_${f}`]));
        }
      } finally {
        pouch.kill("SIGTERM");
      }
    });
  }
  results.peer = peer;

  /* ---- summary ---- */
  const pw = JSON.parse(readFileSync(join(SOURCE_DIR, "clients/web/node_modules/playwright-core/package.json"), "utf8")).version;
  const t = `x${THROTTLE}, Slow 3G`;
  const rows = [
    ["figure", "median", "max", "target"],
    ["app shell, sent gzip (what the service worker precaches, and sw.js)", kib(sizes.maraudeShell.gzip), "", "< 250 KiB"],
    ["  of which the first paint: index.html, stylesheet, page module", kib(sizes.maraudeFirstPaint.gzip), "", ""],
    ["  of which libsodium's key worker (loads beside the first paint)", kib(sizes.maraudeKeysWorker.gzip), "", ""],
  ];
  if (VISITS) rows.push([`first visit (${VISITS} runs, ${t}): navigation -> enrolment screen usable`, f0(visit.median), f0(visit.max), ""],
    ["  bytes the page received (its own requests)", kib(summary(visits.map((v) => v.bytes)).median), "", ""]);
  rows.push(
    [`cold open (${RUNS} runs, ${t}): (a) navigation -> PIN screen usable`, f0(cold.a.median), f0(cold.a.max), ""],
    ["  (b) PIN submitted -> round usable", f0(cold.b.median), f0(cold.b.max), ""],
    ["  (c) \"Nouvelle rencontre\" tapped -> form painted", f0(cold.c.median), f0(cold.c.max), ""],
    ["  (a) + (b) + (c)", f0(cold.sum.median), f0(cold.sum.max), "< 2000 ms"],
    [`warm open (${RUNS} runs, ${t}): locked, (b) + (c)`, f0(warm.sum.median), f0(warm.sum.max), "< 500 ms"],
    ["  (b) PIN submitted -> round usable", f0(warm.b.median), f0(warm.b.max), ""],
  );
  if (SAVES) rows.push(
    [`encounter saved offline (${SAVES}, CPU x${THROTTLE}): tap -> outbox transaction complete`, f1(saveStored.median), f1(saveStored.max), "< 50 ms"],
    ["  p99", f1(saveStored.p99), "", "< 50 ms"],
    ["  tap -> confirmation painted", f1(saveShown.median), f1(saveShown.max), ""],
  );
  rows.push(
    [`first pull of ${RECORDS} records into IndexedDB, CPU x1 (records/s)`, f0(pull1.rate), "", ""],
    [`  the same, CPU x${THROTTLE} (records/s)`, f0(pullX.rate), "", ""],
    [`  the C client, \`veille sync\` into LMDB (${PULLS} runs, records/s)`, f0(cPull.median), "", ""],
    ["  ratio C client / phone, CPU x1", (cPull.median / pull1.rate).toFixed(1), "", ""],
    ["bytes on the wire per record pulled: veille (WebSocket, frames)", f0(pull1.bytes.wire / pull1.stored), "", ""],
  );
  for (const [k] of COUCH_RUNS) {
    if (peer[k]) rows.push([`  CouchDB replication, ${COUCH_LABEL[k]} (HTTP, sockets)`, peer[k].peer_repl_pull_wire_bytes_per_record, "", ""]);
  }
  rows.push([`bytes per encounter pushed: veille, the ${N} (its Mutation in a PushRequest of 1,000)`, f0(seedPushBytes), "", ""]);
  for (const [k] of COUCH_RUNS) {
    if (peer[k]) rows.push([`  CouchDB replication push, ${COUCH_LABEL[k]} (HTTP, sockets)`, peer[k].peer_repl_push_wire_bytes_per_record, "", ""]);
  }
  if (push) rows.push([`  the ${SAVES} encounters saved on the phone, pushed (WebSocket, with the authentication)`, f0(push.perRecord), "", ""]);
  rows.push(["CPU the rest of the machine took (cores): " + Object.entries(load).map(([k, v]) => `${k} ${v.others.toFixed(2)}`).join(", "), "", "", ""]);
  printTable(rows);
  console.log(`\nms unless said; chromium ${chromiumVersion} (playwright-core ${pw}), node ${process.version}; ` +
    `veilled on CPU ${VEILLED_CPU}, chromium on CPU ${affinity(process.pid)}; ${f0((performance.now() - t0) / 1000)} s in all`);
  if (process.env.RESULTS) {
    writeFileSync(process.env.RESULTS, JSON.stringify({ chromiumVersion, node: process.version, playwright: pw, ...results, kv: out }, null, 1));
    log(`results in ${process.env.RESULTS}`);
  }
});
