#!/usr/bin/env node
// Builds the browser app into one directory that veilled serves with `--web DIR`.
//
//   node build.mjs [--out DIR] [--dev] [--skip-typecheck]   the app (default DIR: dist)
//   node build.mjs --unit-tests --out DIR                    test/unit/*.test.ts for Node
//
// The app build:
//  1. protoc (Debian's) + protoc-gen-es generate src/gen/veille/v1/*_pb.ts from proto/veille/v1
//     (files rewritten only when their content changes);
//  2. tsc checks the page (tsconfig.json) and the key worker (tsconfig.worker.json): any type
//     error fails the build;
//  3. esbuild bundles the page (src/main.tsx: ES modules, code splitting, hashed names) with
//     public/app.css (Leaflet's stylesheet included), and the key worker
//     (src/crypto/keys-worker.ts, the only importer of libsodium) as a separate module worker;
//  4. public/ is copied, index.html gets the hashed stylesheet, module, preloads and
//     <meta name="veille-keys-worker" content="./keys-worker-XXXXXXXX.js"> (no inline script:
//     the CSP forbids it); geo/departements.geojson becomes one module per département,
//     geo/<code>.js (`export default` a FeatureCollection, `export const credit`);
//  5. each text file (html, js, css, webmanifest, svg, json; not the source maps) gets its
//     gzip -9 twin beside it, FILE.gz, which veilled sends to a browser that accepts gzip;
//  6. sizes are printed, raw and as sent gzip-compressed, and written to sizes.json.
// The output is built beside DIR and renamed over it at the end, so a failed build leaves the
// previous one in place and a running veilled never serves half a build.
//
// Only Node's standard library and the packages of package.json; runs on Node 18.19+.
import esbuild from "esbuild";
import { spawn, spawnSync } from "node:child_process";
import {
  copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync,
  rmSync, writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { iconPng } from "./icons.mjs";

const ROOT = dirname(fileURLToPath(import.meta.url)); // clients/web
const PROTO_ROOT = resolve(ROOT, "../../proto");
const PROTO_DIR = "veille/v1"; // the wire protocol; store/ and client/ are the C side's own
const GEN = join(ROOT, "src/gen");
const GEO_SOURCE = join(ROOT, "geo/departements.geojson");
const GEO_CREDIT = "IGN GEOFLA 2016, INSEE ; france-geojson — Licence Ouverte / Open Licence";
const WORKER_ENTRY = "src/crypto/keys-worker.ts";
const DESK = { name: "main", page: "src/main.tsx", cssName: "app", css: "public/app.css", publicDir: "public" };
const MARAUDE = {
  name: "maraude", page: "src/maraude.tsx", cssName: "style", css: "public/maraude/maraude.css",
  publicDir: "public/maraude",
};
const MARAUDE_SW = "src/maraude-sw.ts";
/* Under maraude/, what the service worker does not precache: itself, source maps, and the
 * 512 px icons, which serve only at installation (online: the home-screen icon and splash
 * are made then), not to open the app. */
const MARAUDE_NOT_PRECACHED = ["sw.js", "icon-512.png", "icon-maskable-512.png"];
/* The files veilled sends gzip-compressed (their .gz twin) to a browser that accepts it. */
const COMPRESSED = /\.(html|js|css|webmanifest|svg|json)$/;
/* esbuild's hashed names (build.mjs's entryNames): served immutable, never cache-busted again. */
const HASHED = /-[A-Z0-9]{8}\./;

const { values: opt } = parseArgs({
  options: {
    out: { type: "string" },
    dev: { type: "boolean", default: false },
    "unit-tests": { type: "boolean", default: false },
    "skip-typecheck": { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
});
if (opt.help) {
  console.log("usage: node build.mjs [--out DIR] [--dev] [--skip-typecheck] | --unit-tests --out DIR");
  process.exit(0);
}

function fail(msg) {
  console.error(`build.mjs: ${msg}`);
  process.exit(1);
}

/* Files under dir, recursively, as paths relative to dir. */
function walk(dir, base = dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? walk(p, base) : [relative(base, p)];
  });
}

function writeIfChanged(path, content) {
  if (existsSync(path) && readFileSync(path).equals(Buffer.from(content))) return false;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
  return true;
}

function run(cmd, args, cwd = ROOT) {
  return new Promise((ok, ko) => {
    const p = spawn(cmd, args, { cwd, stdio: "inherit" });
    p.on("error", ko);
    p.on("exit", (code, sig) => (code === 0 ? ok() : ko(new Error(`${basename(args[0] ?? cmd)}: ${sig ?? `status ${code}`}`))));
  });
}

/* 1. Protocol code: generated into a scratch directory, then copied where it changed. */
function generateProto() {
  const protos = readdirSync(join(PROTO_ROOT, PROTO_DIR)).filter((f) => f.endsWith(".proto")).sort()
    .map((f) => `${PROTO_DIR}/${f}`);
  const plugin = join(ROOT, "node_modules/.bin/protoc-gen-es");
  if (!existsSync(plugin)) fail("node_modules missing: run `npm ci` in clients/web first");
  const tmp = mkdtempSync(join(tmpdir(), "veille-gen-"));
  try {
    const r = spawnSync(process.env.PROTOC || "protoc",
      ["-I", PROTO_ROOT, `--plugin=protoc-gen-es=${plugin}`, `--es_out=${tmp}`, "--es_opt=target=ts", ...protos],
      { cwd: PROTO_ROOT, stdio: "inherit" });
    if (r.error) fail(`protoc: ${r.error.message} (Debian: apt-get install protobuf-compiler)`);
    if (r.status !== 0) fail("protoc failed");
    const made = new Set(walk(tmp));
    let changed = 0;
    for (const f of made) changed += writeIfChanged(join(GEN, f), readFileSync(join(tmp, f)));
    for (const f of walk(join(GEN, "veille"), GEN)) {
      if (!made.has(f)) { rmSync(join(GEN, f)); changed++; }
    }
    console.log(`protoc-gen-es: ${made.size} files in src/gen (${changed} changed)`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/* 2. Type checks; tsc's bin is a Node script starting the native compiler (TypeScript 7). */
async function typecheck(configs) {
  const tsc = join(ROOT, "node_modules/typescript/bin/tsc");
  const done = await Promise.allSettled(configs.map((c) => run(process.execPath, [tsc, "-p", c])));
  const failed = configs.filter((_, i) => done[i].status === "rejected");
  if (failed.length) {
    process.stderr.write("\n"); // tsc ends its last line without one
    throw new Error(`type errors (tsc -p ${failed.join(", ")})`);
  }
}

const browserOptions = (dev) => ({
  absWorkingDir: ROOT,
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  minify: !dev,
  sourcemap: dev ? "linked" : "external", // .map files beside, not referenced in production
  jsx: "automatic",
  jsxImportSource: "preact",
  entryNames: "[name]-[hash]",
  chunkNames: "[name]-[hash]",
  assetNames: "[name]-[hash]",
  loader: { ".png": "file", ".jpg": "file", ".svg": "file", ".woff2": "file" },
  // Served by veilled, not bundled: its runtime configuration and the département outlines.
  external: ["/config.js", "/geo/*"],
  define: { "process.env.NODE_ENV": dev ? '"development"' : '"production"' },
  metafile: true,
  logLevel: "warning",
});

/* 3. The page (with its stylesheet) and the key worker, as two builds: nothing is shared.
 * The desk's page is src/main.tsx with public/app.css; the maraude's, src/maraude.tsx with
 * public/maraude/maraude.css, into maraude/ with its own copy of the key worker (its service
 * worker precaches only what is under maraude/). */
async function bundle(out, dev, app = DESK) {
  const PAGE_ENTRY = app.page;
  const CSS_ENTRY = app.css;
  const [page, worker] = await Promise.all([
    esbuild.build({
      ...browserOptions(dev),
      entryPoints: { [app.name]: PAGE_ENTRY, [app.cssName]: CSS_ENTRY },
      outdir: out,
      splitting: true,
    }),
    esbuild.build({
      ...browserOptions(dev),
      entryPoints: { "keys-worker": WORKER_ENTRY },
      outdir: out,
    }),
  ]);
  // Metafile paths are relative to ROOT; make them relative to out.
  const rel = (p) => relative(out, resolve(ROOT, p));
  const outputs = (meta) => Object.fromEntries(Object.entries(meta.outputs).map(([k, v]) => [rel(k), v]));
  // libsodium belongs to the key worker alone: in the page it would hold keys where they must
  // not be, and weigh half a megabyte on the first paint.
  const leak = Object.keys(page.metafile.inputs).find((p) => /node_modules\/libsodium/.test(p));
  if (leak) throw new Error(`the page bundle includes ${leak}: only ${WORKER_ENTRY} may import libsodium`);
  const pageOut = outputs(page.metafile);
  const workerOut = outputs(worker.metafile);
  const entry = (outs, src) => Object.keys(outs).find((k) => outs[k].entryPoint === src);
  const staticClosure = (outs, start) => {
    const seen = new Set([start]);
    for (const f of seen) {
      for (const i of outs[f]?.imports ?? []) {
        if (i.kind === "import-statement" && !i.external) seen.add(rel(i.path));
      }
    }
    return [...seen];
  };
  const main = entry(pageOut, PAGE_ENTRY);
  const mainJs = staticClosure(pageOut, main);
  const css = [entry(pageOut, CSS_ENTRY)];
  if (pageOut[main].cssBundle) css.push(rel(pageOut[main].cssBundle));
  const workerEntry = entry(workerOut, WORKER_ENTRY);
  return { main, mainJs, css, worker: staticClosure(workerOut, workerEntry), workerEntry };
}

/* 4a. index.html with the hashed names, and the rest of public/. */
function writePublic(out, b, app = DESK) {
  const url = (f) => `./${f.split("\\").join("/")}`;
  const tags = [
    ...b.css.map((f) => `<link rel="stylesheet" href="${url(f)}">`),
    ...b.mainJs.filter((f) => f !== b.main).map((f) => `<link rel="modulepreload" href="${url(f)}">`),
    `<meta name="veille-keys-worker" content="${url(b.workerEntry)}">`,
    `<script type="module" src="${url(b.main)}"></script>`,
  ];
  const html = readFileSync(join(ROOT, app.publicDir, "index.html"), "utf8");
  const marker = /<!-- veille:assets[^]*?-->\n?/;
  if (!marker.test(html)) fail(`${app.publicDir}/index.html lacks its <!-- veille:assets ... --> comment`);
  writeFileSync(join(out, "index.html"), html.replace(marker, `${tags.join("\n")}\n`));
  const css = relative(app.publicDir, app.css);
  for (const f of walk(join(ROOT, app.publicDir))) {
    if (f === "index.html" || f === css) continue; // rewritten, bundled
    if (app === DESK && f.startsWith("maraude/")) continue; // the maraude's own build
    mkdirSync(dirname(join(out, f)), { recursive: true });
    copyFileSync(join(ROOT, app.publicDir, f), join(out, f));
  }
}

/* 4c. The maraude app under out/maraude: page, key worker, icons, and its service worker,
 * which precaches exactly these files (workbox-build injectManifest). */
async function buildMaraude(out, dev) {
  const dir = join(out, "maraude");
  mkdirSync(dir, { recursive: true });
  const b = await bundle(dir, dev, MARAUDE);
  writePublic(dir, b, MARAUDE);
  writeFileSync(join(dir, "icon-192.png"), iconPng(192));
  writeFileSync(join(dir, "icon-512.png"), iconPng(512));
  writeFileSync(join(dir, "icon-maskable-512.png"), iconPng(512, { maskable: true }));
  const swTmp = join(out, `.sw-${process.pid}.js`);
  await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: [MARAUDE_SW],
    outfile: swTmp,
    bundle: true,
    format: "iife",
    platform: "browser",
    target: "es2022",
    minify: !dev,
    define: { "process.env.NODE_ENV": dev ? '"development"' : '"production"' },
    logLevel: "warning",
  });
  const { injectManifest } = await import("workbox-build");
  const r = await injectManifest({
    swSrc: swTmp,
    swDest: join(dir, "sw.js"),
    globDirectory: dir,
    globPatterns: ["**/*.{html,js,css,png,webmanifest}"],
    globIgnores: [...MARAUDE_NOT_PRECACHED, "**/*.map"],
    dontCacheBustURLsMatching: HASHED,
    maximumFileSizeToCacheInBytes: 5 << 20,
  });
  rmSync(swTmp, { force: true });
  for (const w of r.warnings) console.warn(`workbox: ${w}`);
  console.log(`maraude: service worker precaches ${r.count} files (${(r.size / 1024).toFixed(1)} KiB)`);
  return b;
}

/* 4b. One ES module per département, coordinates rounded to 5 decimals (about 1 m). */
function writeGeo(out) {
  const round = (c) => (typeof c === "number" ? Math.round(c * 1e5) / 1e5 : c.map(round));
  const { features } = JSON.parse(readFileSync(GEO_SOURCE, "utf8"));
  mkdirSync(join(out, "geo"));
  for (const f of features) {
    const code = f.properties.code;
    if (!/^[0-9][0-9AB][0-9]?$/.test(code)) fail(`geo: unexpected département code ${code}`);
    const fc = {
      type: "FeatureCollection",
      features: [{ type: "Feature", properties: f.properties,
        geometry: { type: f.geometry.type, coordinates: round(f.geometry.coordinates) } }],
    };
    writeFileSync(join(out, "geo", `${code}.js`),
      `// ${f.properties.nom}: ${GEO_CREDIT} (clients/web/geo/README.md)\n` +
      `export const credit = ${JSON.stringify(GEO_CREDIT)};\n` +
      `export default ${JSON.stringify(fc)};\n`);
  }
  return features.length;
}

/* 5. The gzip twins: FILE.gz beside each text file, written only where it is smaller. */
function compress(out) {
  for (const f of walk(out).filter((x) => COMPRESSED.test(x))) {
    const data = readFileSync(join(out, f));
    const gz = gzipSync(data, { level: 9 });
    if (gz.length < data.length) writeFileSync(join(out, `${f}.gz`), gz);
  }
}

/* 6. Sizes: what the first paint needs against the key worker (libsodium), and the rest;
 * "gzip" is what veilled sends to a browser that accepts it (the twin, else the file). */
function sizes(out, b) {
  const files = walk(out).filter((f) => !f.endsWith(".map") && !f.endsWith(".gz")).sort();
  const size = Object.fromEntries(files.map((f) => {
    const raw = readFileSync(join(out, f)).length;
    const gz = join(out, `${f}.gz`);
    return [f, { raw, gzip: existsSync(gz) ? readFileSync(gz).length : raw }];
  }));
  const sum = (list) => list.reduce((a, f) => ({ raw: a.raw + size[f].raw, gzip: a.gzip + size[f].gzip }), { raw: 0, gzip: 0 });
  const geo = files.filter((f) => f.startsWith("geo/"));
  // The maraude phone's shell: what its service worker precaches, and sw.js itself.
  const maraude = files.filter((f) => f.startsWith("maraude/") &&
    (f === "maraude/sw.js" || !MARAUDE_NOT_PRECACHED.includes(f.slice("maraude/".length))));
  const firstPaint = ["index.html", ...b.css, ...b.mainJs];
  const report = {
    firstPaint: { files: firstPaint, ...sum(firstPaint) },
    keysWorker: { files: b.worker, ...sum(b.worker) },
    geo: { count: geo.length, ...sum(geo), largestGzip: Math.max(...geo.map((f) => size[f].gzip)) },
    maraudeShell: { files: maraude, ...sum(maraude) },
    files: Object.fromEntries(files.filter((f) => !f.startsWith("geo/")).map((f) => [f, size[f]])),
    all: sum(files),
  };
  writeFileSync(join(out, "sizes.json"), `${JSON.stringify(report, null, 2)}\n`);

  const kib = (n) => `${(n / 1024).toFixed(1)} KiB`.padStart(11);
  const line = (name, s) => console.log(`  ${name.padEnd(34)} ${kib(s.raw)} ${kib(s.gzip)}`);
  console.log(`\n  ${"file".padEnd(34)} ${"raw".padStart(11)} ${"sent gzip".padStart(11)}`);
  for (const f of Object.keys(report.files)) line(f, size[f]);
  line(`geo/*.js (${geo.length} départements)`, report.geo);
  console.log(`  ${"-".repeat(58)}`);
  line("first paint (html, css, main js)", report.firstPaint);
  line("key worker (libsodium)", report.keysWorker);
  line("maraude shell (maraude/*, offline)", report.maraudeShell);
  console.log(`  (largest geo module: ${(report.geo.largestGzip / 1024).toFixed(1)} KiB gzip)\n`);
}

/* Builds into a scratch directory beside out, then replaces out with it. */
async function buildInto(out, what, build) {
  const tmp = `${out}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    await build(tmp);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    fail(e.message);
  }
  if (existsSync(out)) {
    // Never delete a directory this script did not make.
    const old = readdirSync(out);
    if (old.length && !old.some((f) => f === what)) fail(`refusing to replace ${out}: no ${what} in it`);
    rmSync(out, { recursive: true, force: true });
  }
  renameSync(tmp, out);
}

async function buildApp(out, dev) {
  generateProto();
  const t0 = Date.now();
  let b;
  await buildInto(out, "index.html", async (tmp) => {
    const checks = opt["skip-typecheck"] ? Promise.resolve() : typecheck(["tsconfig.json", "tsconfig.worker.json"]);
    [b] = await Promise.all([bundle(tmp, dev), checks]);
    writePublic(tmp, b);
    writeGeo(tmp);
    await buildMaraude(tmp, dev);
    compress(tmp);
  });
  console.log(`built ${relative(process.cwd(), out) || "."} in ${Date.now() - t0} ms${dev ? " (dev)" : ""}`);
  sizes(out, b);
}

/*
 * Unit tests: each test/unit/*.test.ts becomes DIR/*.test.cjs for `node --test`. CommonJS, and
 * libsodium resolved to its CommonJS build: its ES module build needs the global `crypto` that
 * Node 18 lacks.
 */
async function buildUnitTests(out) {
  generateProto();
  const tests = existsSync(join(ROOT, "test/unit"))
    ? readdirSync(join(ROOT, "test/unit")).filter((f) => f.endsWith(".test.ts")).sort() : [];
  const require = createRequire(join(ROOT, "package.json"));
  const sodiumCjs = {
    name: "libsodium-cjs",
    setup(b) {
      b.onResolve({ filter: /^libsodium-wrappers(-sumo)?$/ }, (a) => ({ path: require.resolve(a.path) }));
    },
  };
  await buildInto(out, "unit-tests.json", async (tmp) => {
    if (tests.length) {
      await Promise.all([
        opt["skip-typecheck"] ? null : typecheck(["tsconfig.test.json"]),
        esbuild.build({
          absWorkingDir: ROOT,
          entryPoints: tests.map((f) => `test/unit/${f}`),
          outdir: tmp,
          outbase: "test/unit",
          outExtension: { ".js": ".cjs" },
          bundle: true,
          platform: "node",
          format: "cjs",
          target: "node18",
          sourcemap: "inline",
          jsx: "automatic",
          jsxImportSource: "preact",
          plugins: [sodiumCjs],
          logLevel: "warning",
        }),
      ]);
    }
    writeFileSync(join(tmp, "unit-tests.json"), `${JSON.stringify({ tests: tests.map((f) => f.replace(/\.ts$/, ".cjs")) })}\n`);
  });
  console.log(`unit tests: ${tests.length} bundled into ${out}`);
}

const out = resolve(process.cwd(), opt.out ?? join(ROOT, opt["unit-tests"] ? "build/unit" : "dist"));
if (opt["unit-tests"]) await buildUnitTests(out);
else await buildApp(out, opt.dev);
