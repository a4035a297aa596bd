// pouch-bench: the peer half of tools/bench/run-sync. Pushes and cold-pulls the same number of
// ~1 KiB encounters as `veille-bench sync` against a CouchDB-protocol server (pouchdb-server),
// in one of two modes:
//
// --mode raw (default; figures peer_*): the server's cheapest endpoints, driven directly, an
//   upper bound for the peer rather than what a client does.
//   write: POST /db/_bulk_docs {docs, new_edits: false}, docs carrying _rev and _revisions, as
//          the CouchDB replicator writes to its target, in batches, from C concurrent clients;
//   read:  GET /db/_changes?include_docs=true&limit=L&since=S, paged until a short page.
//   Node 20, no dependency (global fetch keeps connections alive).
//
// --mode repl (figures peer_repl_*): the CouchDB replication protocol as a PouchDB client runs
//   it. C client-side PouchDB databases (npm pouchdb-node, LevelDB in a temporary directory
//   under --local-dir; or --local-adapter memory) each hold their share of the documents, written
//   locally before the clock starts; then all C replicate to the server database at once
//   (PouchDB.replicate(local, remote): _changes of the local database, POST _revs_diff,
//   POST _bulk_docs with new_edits false, checkpoints in _local docs); push time is from the
//   start to the last of the C done. Then one fresh local database replicates from the server
//   (_changes, POST _bulk_get with revs and latest, local writes, checkpoints): the cold pull.
//   PouchDB is loaded from --modules (a node_modules directory holding the pinned versions of
//   package.json beside this file; run-sync passes build/bench-peer/node_modules).
//   --docs FILE: the documents to replicate, one JSON object per line (with its _id), instead
//   of generated ones; --ops is then their number (tools/bench/web-maraude passes the
//   encounters it pulled from veilled, so that both servers carry the same documents).
//   The bytes on the wire of each phase are counted on the clients' sockets (HTTP headers and
//   bodies, as sent and received: pouchdb-server compresses its answers, with gzip, when
//   asked, as PouchDB asks; --no-compress does not ask).
//
// Prints the figures of veille-bench with a peer_ (or peer_repl_) prefix, as key=value lines.
// Bounded: fixed counts, a timeout on every request and on every replication phase, a bounded
// number of pages; any failure exits 1; the local databases' directory is removed on exit.
import { randomBytes, createHash } from 'node:crypto';
import { readFileSync, mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Agent } from 'node:http';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const NOTE_TARGET = 880; // bytes of note, as bench.c
const NOTE_POOL = 64;

function parseArgs(argv) {
  const o = { mode: 'raw', url: null, ops: 100000, clients: 20, batch: 1000, pullLimit: 1000,
              serverPid: 0, db: 'bench', timeoutMs: 60000,
              // repl mode
              modules: join(dirname(fileURLToPath(import.meta.url)), 'node_modules'),
              localDir: null, localAdapter: 'leveldb', replBatchSize: 1000,
              phaseTimeoutMs: 900000, docs: null, compress: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i], v = argv[i + 1];
    const num = () => { const n = Number(v); if (!Number.isInteger(n) || n < 1) die(`bad ${a} ${v}`); i++; return n; };
    switch (a) {
      case '--url': o.url = v; i++; break;
      case '--ops': o.ops = num(); break;
      case '--clients': o.clients = num(); break;
      case '--batch': o.batch = num(); break;
      case '--pull-limit': o.pullLimit = num(); break;
      case '--server-pid': o.serverPid = num(); break;
      case '--timeout-ms': o.timeoutMs = num(); break;
      case '--db': o.db = v; i++; break;
      case '--mode': o.mode = v; i++; break;
      case '--modules': o.modules = v; i++; break;
      case '--local-dir': o.localDir = v; i++; break;
      case '--local-adapter': o.localAdapter = v; i++; break;
      // 0: PouchDB's defaults (batch_size 100, batches_limit 10)
      case '--repl-batch-size': o.replBatchSize = v === '0' ? 0 : num(); if (v === '0') i++; break;
      case '--phase-timeout-ms': o.phaseTimeoutMs = num(); break;
      case '--docs': o.docs = v; i++; break;
      case '--no-compress': o.compress = false; break;
      default: die(`unknown argument ${a}`);
    }
  }
  if (!o.url) die('--url is required');
  if (o.mode !== 'raw' && o.mode !== 'repl') die('--mode: raw or repl');
  if (o.localAdapter !== 'leveldb' && o.localAdapter !== 'memory') die('--local-adapter: leveldb or memory');
  if (o.mode === 'repl' && o.localAdapter === 'leveldb' && !o.localDir) die('--local-dir is required with --mode repl');
  if (o.docs && o.mode !== 'repl') die('--docs: with --mode repl only');
  return o;
}

function die(msg) {
  process.stderr.write(`pouch-bench: ${msg}\n`);
  process.exit(1);
}

// The sentences of bench.c, so both servers store the same kind of text.
const sentences = [
  "Rencontré près de la gare de l'Est, sous l'auvent du parking, vers 22 h 30.",
  "Monsieur dort sous une tente depuis trois semaines, il dit ne plus appeler le 115 faute de place.",
  "Madame est accompagnée de son chien, elle refuse les hébergements qui n'acceptent pas les animaux.",
  "Il a perdu ses papiers lors de l'évacuation du campement ; orientation vers l'accueil de jour pour la domiciliation.",
  "Échange long et calme, il parle un peu français, surtout arabe ; il souhaite voir un médecin pour son pied.",
  "Plaie au pied gauche non soignée, proposition d'accompagnement à la PASS de l'hôpital demain matin.",
  "Distribution d'un café, d'un sandwich et d'un kit d'hygiène ; il a accepté un sac de couchage neuf.",
  "Elle dit avoir une demande de logement social en cours, à vérifier avec l'assistante sociale du secteur.",
  "Le couple est arrivé il y a deux mois, ils dorment dans leur voiture, stationnée derrière le gymnase.",
  "Pas d'ouverture de droits à ce jour : ni AME, ni RSA. À revoir avec le CCAS pour l'aide médicale d'État.",
  "Il a travaillé comme maçon, cherche des missions d'intérim ; information donnée sur l'agence solidaire.",
  "Signalement fait au SIAO pour une mise à l'abri ; réponse attendue, rappeler le 115 demain à 9 h.",
  "Très fatigué ce soir, peu de mots ; nous repasserons jeudi avec l'infirmière de l'équipe.",
  "Elle préfère rester sur le secteur, où elle connaît les commerçants qui l'aident ; lien de confiance à garder.",
  "Il boit beaucoup moins depuis l'hiver, il en est fier ; il demande des nouvelles de l'accueil de nuit.",
  "Accepte d'être orienté vers le centre de santé ; rendez-vous pris pour lundi 14 h, à accompagner.",
  "Nuit froide annoncée : plan grand froid actif, proposition de gymnase refusée, couverture de survie donnée.",
  "Jeune homme de moins de 25 ans, sorti de l'aide sociale à l'enfance l'an dernier ; orienter vers la mission locale.",
  "Famille avec deux enfants scolarisés à l'école du quartier, hébergée chez un tiers jusqu'à vendredi.",
  "Il souhaite récupérer ses affaires stockées à la bagagerie, le badge a expiré ; à renouveler.",
];
const areas = ['Paris 10e', 'Paris 18e', 'Paris 19e', 'Paris 20e', 'Paris 11e', 'Paris 12e',
               'Paris 13e', 'Paris 14e', 'Gare du Nord', 'Bois de Vincennes'];
const geohashes = ['u09wj', 'u09wn', 'u09wq', 'u09ty', 'u09tv', 'u09tu', 'u09tg', 'u09tf'];
const needs = ['SHELTER', 'FOOD', 'HYGIENE', 'HEALTH_CARE', 'CLOTHING', 'RIGHTS_ACCESS',
               'SOCIAL_CONTACT', 'OTHER'];
const services = ['TALK', 'HOT_DRINK', 'FOOD', 'CLOTHING', 'HYGIENE_KIT', 'SLEEPING_BAG',
                  'INFORMATION', 'CALL_115', 'ACCOMPANIMENT', 'CARE', 'OTHER'];

const pick = (arr) => arr[Math.floor(Math.random() * arr.length)];
const hex = (n) => randomBytes(n).toString('hex');

function makeNote() {
  let note = '', misses = 0;
  while (misses < 8) {
    const s = pick(sentences);
    const add = (note ? ' ' : '') + s;
    if (Buffer.byteLength(note + add) > NOTE_TARGET) { misses++; continue; }
    note += add;
  }
  const pad = " Suite au prochain passage de l'équipe.";
  if (Buffer.byteLength(note + pad) <= NOTE_TARGET) note += pad;
  return note;
}

const notes = Array.from({ length: NOTE_POOL }, makeNote);
const persons = Array.from({ length: 2000 }, () => hex(16));
const baseMs = Date.now() - 30 * 24 * 3600 * 1000;

// The body of one encounter, as an application writes it.
function makeBody(client) {
  return {
    type: 'encounter',
    person_id: pick(persons),
    team_id: 'bench',
    author_id: `maraudeur-${client}`,
    occurred_at_ms: baseMs + Math.floor(Math.random() * 30 * 24 * 3600 * 1000),
    location: { area: pick(areas), geohash: pick(geohashes) },
    needs: Array.from({ length: 1 + Math.floor(Math.random() * 3) }, () => pick(needs)),
    services: Array.from({ length: 1 + Math.floor(Math.random() * 3) }, () => pick(services)),
    note: pick(notes),
  };
}

// A document as a replicator sends it: a first revision with its history.
function makeDoc(client) {
  const body = makeBody(client);
  const revHash = createHash('md5').update(JSON.stringify(body)).digest('hex');
  return { _id: hex(16), _rev: `1-${revHash}`, _revisions: { start: 1, ids: [revHash] }, ...body };
}

// utime + stime of pid in seconds, or -1.
function procCpu(pid) {
  if (!pid) return -1;
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // USER_HZ: 100 on Linux
  } catch { return -1; }
}

function procKib(pid, key) {
  if (!pid) return -1;
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(`${key}:`));
    return line ? parseInt(line.slice(key.length + 1), 10) : -1;
  } catch { return -1; }
}

function percentile(sorted, p) {
  if (!sorted.length) return 0;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

async function request(o, method, path, body) {
  const res = await fetch(`${o.url}${path}`, {
    method,
    headers: body ? { 'Content-Type': 'application/json' } : {},
    body,
    signal: AbortSignal.timeout(o.timeoutMs),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status}: ${text.slice(0, 200)}`);
  return JSON.parse(text);
}

// The request bodies of one client, built before the clock starts: the client's own work is
// kept off the peer's figures (the conservative side for the ratios).
function buildBodies(o, client, ops, stats) {
  const bodies = [];
  for (let left = ops; left > 0;) {
    const n = Math.min(left, o.batch);
    const docs = Array.from({ length: n }, () => makeDoc(client));
    const body = JSON.stringify({ docs, new_edits: false });
    stats.bytes += Buffer.byteLength(body);
    bodies.push(body);
    left -= n;
  }
  return bodies;
}

async function pusher(o, bodies, lat) {
  for (const body of bodies) {
    const t0 = performance.now();
    const res = await request(o, 'POST', `/${o.db}/_bulk_docs`, body);
    lat.push(performance.now() - t0);
    // new_edits=false answers only the failures (CouchDB: []; PouchDB: one entry per doc,
    // an error field on failure).
    const bad = Array.isArray(res) ? res.filter((r) => r && r.error) : [res];
    if (bad.length) throw new Error(`_bulk_docs: ${JSON.stringify(bad[0])}`);
  }
}

async function mainRaw(o) {
  await request(o, 'PUT', `/${o.db}`);

  // Push: C concurrent clients, each its share in batches.
  const lat = [], stats = { bytes: 0 };
  const shares = Array.from({ length: o.clients },
    (_, i) => Math.floor(o.ops / o.clients) + (i < o.ops % o.clients ? 1 : 0));
  const bodies = shares.map((n, i) => buildBodies(o, i, n, stats));
  let cpu0 = procCpu(o.serverPid), self0 = process.cpuUsage();
  let t0 = performance.now();
  await Promise.all(bodies.map((b) => pusher(o, b, lat)));
  let secs = (performance.now() - t0) / 1000;
  let cpu1 = procCpu(o.serverPid), self1 = process.cpuUsage(self0);
  lat.sort((a, b) => a - b);
  const out = [];
  out.push(`peer_push_ops=${o.ops}`, `peer_push_clients=${o.clients}`, `peer_push_batch=${o.batch}`,
           `peer_push_record_bytes=${Math.round(stats.bytes / o.ops)}`,
           `peer_push_requests=${lat.length}`,
           `peer_push_seconds=${secs.toFixed(3)}`,
           `peer_push_ops_per_s=${Math.round(o.ops / secs)}`,
           `peer_push_ack_p50_ms=${percentile(lat, 50).toFixed(1)}`,
           `peer_push_ack_p99_ms=${percentile(lat, 99).toFixed(1)}`,
           `peer_push_ack_max_ms=${lat[lat.length - 1].toFixed(1)}`);
  if (cpu0 >= 0 && cpu1 >= 0)
    out.push(`peer_server_push_cpu_s=${(cpu1 - cpu0).toFixed(2)}`,
             `peer_server_push_cpu_pct=${Math.round(((cpu1 - cpu0) / secs) * 100)}`);
  out.push(`peer_bench_push_cpu_s=${((self1.user + self1.system) / 1e6).toFixed(2)}`);
  process.stdout.write(out.join('\n') + '\n');

  // Cold pull: one reader, from the beginning, until a short page.
  let since = 0, records = 0, pages = 0;
  const maxPages = 2 * Math.ceil(o.ops / o.pullLimit) + 10;
  cpu0 = procCpu(o.serverPid); self0 = process.cpuUsage();
  t0 = performance.now();
  for (;;) {
    if (pages >= maxPages) throw new Error(`_changes: still more after ${pages} pages`);
    const res = await request(o, 'GET',
      `/${o.db}/_changes?include_docs=true&limit=${o.pullLimit}&since=${encodeURIComponent(since)}`);
    pages++;
    for (const r of res.results) if (r.doc && r.doc.type === 'encounter') records++;
    since = res.last_seq;
    if (res.results.length < o.pullLimit) break;
  }
  secs = (performance.now() - t0) / 1000;
  cpu1 = procCpu(o.serverPid); self1 = process.cpuUsage(self0);
  const pout = [`peer_pull_records=${records}`, `peer_pull_pages=${pages}`,
                `peer_pull_seconds=${secs.toFixed(3)}`,
                `peer_pull_records_per_s=${Math.round(records / secs)}`];
  if (cpu0 >= 0 && cpu1 >= 0)
    pout.push(`peer_server_pull_cpu_s=${(cpu1 - cpu0).toFixed(2)}`,
              `peer_server_pull_cpu_pct=${Math.round(((cpu1 - cpu0) / secs) * 100)}`);
  pout.push(`peer_bench_pull_cpu_s=${((self1.user + self1.system) / 1e6).toFixed(2)}`);
  if (o.serverPid)
    pout.push(`peer_server_rss_kib=${procKib(o.serverPid, 'VmRSS')}`,
              `peer_server_rss_peak_kib=${procKib(o.serverPid, 'VmHWM')}`);
  process.stdout.write(pout.join('\n') + '\n');
  if (records < o.ops) die(`_changes: ${records} documents, fewer than the ${o.ops} pushed`);
}

// ---- repl mode: PouchDB clients running the replication protocol ----

let localRoot = null; // removed on exit, whatever happens
process.on('exit', () => {
  if (localRoot) try { rmSync(localRoot, { recursive: true, force: true }); } catch { /* nothing */ }
});

// Counts the HTTP requests a PouchDB remote makes, by endpoint, and the bytes its sockets
// send and receive (c.wire()), times the _bulk_docs (the push's acknowledgements), and bounds
// each request by --timeout-ms. Connections are kept alive, as a browser's would be
// (node-fetch without an agent closes each one).
function httpCounter(PouchDB, o) {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const sockets = [];
  const connect = agent.createConnection.bind(agent);
  agent.createConnection = (...a) => {
    const s = connect(...a);
    sockets.push(s);
    return s;
  };
  const c = { requests: 0, byEndpoint: {}, bulkDocsMs: [],
              wire: () => sockets.reduce((a, s) => a + s.bytesRead + s.bytesWritten, 0) };
  const fetch = async (url, opts) => {
    const path = new URL(url).pathname.split('/').filter(Boolean);
    const ep = path.length < 2 ? 'db' : !path[1].startsWith('_') ? 'doc' : path[1];
    c.requests++;
    c.byEndpoint[ep] = (c.byEndpoint[ep] || 0) + 1;
    const timeout = AbortSignal.timeout(o.timeoutMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
    const t0 = performance.now();
    const res = await PouchDB.fetch(url, { ...opts, signal, agent, compress: o.compress });
    if (ep !== '_bulk_docs') return res;
    // The acknowledgement is the whole answer, not its first bytes: read it, time it, and hand
    // PouchDB the same answer (node-fetch's clone() can stall on a large unread body).
    const body = await res.text();
    c.bulkDocsMs.push(performance.now() - t0);
    return new res.constructor(body, { url: res.url, status: res.status,
                                       statusText: res.statusText, headers: res.headers });
  };
  return { fetch, c, agent };
}

// Runs replications to completion or fails: each must complete with every document written
// and none failed, all within --phase-timeout-ms (then they are cancelled).
async function replicateAll(reps, o, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => {
      for (const r of reps) r.cancel();
      reject(new Error(`${what}: not done in ${o.phaseTimeoutMs} ms`));
    }, o.phaseTimeoutMs);
  });
  try {
    const results = await Promise.race([Promise.all(reps), timeout]);
    for (const r of results) {
      if (!r.ok || r.status !== 'complete' || r.doc_write_failures)
        throw new Error(`${what}: ${JSON.stringify({ ok: r.ok, status: r.status, failures: r.doc_write_failures, errors: r.errors })}`);
    }
    return results;
  } finally {
    clearTimeout(timer);
  }
}

function endpointFigures(prefix, c) {
  return Object.keys(c.byEndpoint).sort().map((k) =>
    `${prefix}_req_${k.replace(/^_/, '')}=${c.byEndpoint[k]}`);
}

async function mainRepl(o) {
  const req = createRequire(join(o.modules, 'noop.js'));
  const PouchDB = req('pouchdb-node');
  let localOpts = {};
  if (o.localAdapter === 'memory') {
    PouchDB.plugin(req('pouchdb-adapter-memory'));
    localOpts = { adapter: 'memory' };
  }
  if (o.localDir) {
    mkdirSync(o.localDir, { recursive: true });
    localRoot = mkdtempSync(join(o.localDir, 'pouch-local-'));
  }
  const localName = (name) => (o.localAdapter === 'memory' ? `bench-${name}` : join(localRoot, name));
  const replOpts = o.replBatchSize ? { batch_size: o.replBatchSize } : {};
  const remoteUrl = `${o.url}/${o.db}`;
  await request(o, 'PUT', `/${o.db}`);

  // The clients' databases, filled before the clock: each its share, written the way an
  // application writes (new documents, PouchDB makes the first revision).
  const given = o.docs ? readFileSync(o.docs, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : null;
  if (given) o.ops = given.length;
  const shares = Array.from({ length: o.clients },
    (_, i) => Math.floor(o.ops / o.clients) + (i < o.ops % o.clients ? 1 : 0));
  const locals = shares.map((_, i) => new PouchDB(localName(`client-${i}`), localOpts));
  let bytes = 0;
  await Promise.all(locals.map(async (db, i) => {
    let next = shares.slice(0, i).reduce((a, n) => a + n, 0); // this client's first given doc
    for (let left = shares[i]; left > 0;) {
      const n = Math.min(left, 1000);
      const docs = given ? given.slice(next, next += n)
        : Array.from({ length: n }, () => ({ _id: hex(16), ...makeBody(i) }));
      for (const d of docs) bytes += Buffer.byteLength(JSON.stringify(d));
      const res = await db.bulkDocs(docs);
      const bad = res.filter((r) => r.error);
      if (bad.length) throw new Error(`local bulkDocs: ${JSON.stringify(bad[0])}`);
      left -= n;
    }
  }));

  // Push: all the clients replicate to the server at once.
  const push = httpCounter(PouchDB, o);
  const remotes = locals.map(() => new PouchDB(remoteUrl, { fetch: push.fetch }));
  let cpu0 = procCpu(o.serverPid), self0 = process.cpuUsage();
  let t0 = performance.now();
  const pushed = await replicateAll(
    locals.map((l, i) => PouchDB.replicate(l, remotes[i], replOpts)), o, 'push replication');
  let secs = (performance.now() - t0) / 1000;
  let cpu1 = procCpu(o.serverPid), self1 = process.cpuUsage(self0);
  const written = pushed.reduce((a, r) => a + r.docs_written, 0);
  if (written !== o.ops) die(`push replication wrote ${written} documents, not ${o.ops}`);
  const info = await request(o, 'GET', `/${o.db}`);
  if (info.doc_count !== o.ops) die(`the server holds ${info.doc_count} documents, not ${o.ops}`);
  const lat = push.c.bulkDocsMs.sort((a, b) => a - b);
  const P = 'peer_repl';
  const out = [`${P}_local_adapter=${o.localAdapter}`,
               `${P}_batch_size=${o.replBatchSize || 100}`,
               `${P}_push_ops=${o.ops}`, `${P}_push_clients=${o.clients}`,
               `${P}_push_body_bytes=${Math.round(bytes / o.ops)}`,
               `${P}_push_requests=${push.c.requests}`, ...endpointFigures(`${P}_push`, push.c),
               `${P}_push_seconds=${secs.toFixed(3)}`,
               `${P}_push_ops_per_s=${Math.round(o.ops / secs)}`,
               `${P}_push_wire_bytes=${push.c.wire()}`,
               `${P}_push_wire_bytes_per_record=${Math.round(push.c.wire() / o.ops)}`];
  if (lat.length)
    out.push(`${P}_push_bulk_docs_p50_ms=${percentile(lat, 50).toFixed(1)}`,
             `${P}_push_bulk_docs_p99_ms=${percentile(lat, 99).toFixed(1)}`);
  if (cpu0 >= 0 && cpu1 >= 0)
    out.push(`${P}_server_push_cpu_s=${(cpu1 - cpu0).toFixed(2)}`,
             `${P}_server_push_cpu_pct=${Math.round(((cpu1 - cpu0) / secs) * 100)}`);
  out.push(`${P}_bench_push_cpu_s=${((self1.user + self1.system) / 1e6).toFixed(2)}`,
           `${P}_bench_push_cpu_pct=${Math.round(((self1.user + self1.system) / 1e6 / secs) * 100)}`);
  process.stdout.write(out.join('\n') + '\n');
  await Promise.all(locals.map((db) => db.close()));
  await Promise.all(remotes.map((db) => db.close()));
  push.agent.destroy();

  // Cold pull: one fresh client database replicates everything from the server.
  const pull = httpCounter(PouchDB, o);
  const fresh = new PouchDB(localName('pull'), localOpts);
  const remote = new PouchDB(remoteUrl, { fetch: pull.fetch });
  cpu0 = procCpu(o.serverPid); self0 = process.cpuUsage();
  t0 = performance.now();
  const [pulled] = await replicateAll([PouchDB.replicate(remote, fresh, replOpts)], o, 'pull replication');
  secs = (performance.now() - t0) / 1000;
  cpu1 = procCpu(o.serverPid); self1 = process.cpuUsage(self0);
  const got = (await fresh.info()).doc_count;
  if (pulled.docs_written !== o.ops || got !== o.ops)
    die(`pull replication wrote ${pulled.docs_written} documents (${got} in the database), not ${o.ops}`);
  const pout = [`${P}_pull_records=${got}`, `${P}_pull_requests=${pull.c.requests}`,
                ...endpointFigures(`${P}_pull`, pull.c),
                `${P}_pull_seconds=${secs.toFixed(3)}`,
                `${P}_pull_records_per_s=${Math.round(got / secs)}`,
                `${P}_pull_wire_bytes=${pull.c.wire()}`,
                `${P}_pull_wire_bytes_per_record=${Math.round(pull.c.wire() / got)}`];
  if (cpu0 >= 0 && cpu1 >= 0)
    pout.push(`${P}_server_pull_cpu_s=${(cpu1 - cpu0).toFixed(2)}`,
              `${P}_server_pull_cpu_pct=${Math.round(((cpu1 - cpu0) / secs) * 100)}`);
  pout.push(`${P}_bench_pull_cpu_s=${((self1.user + self1.system) / 1e6).toFixed(2)}`,
            `${P}_bench_pull_cpu_pct=${Math.round(((self1.user + self1.system) / 1e6 / secs) * 100)}`);
  if (o.serverPid)
    pout.push(`${P}_server_rss_kib=${procKib(o.serverPid, 'VmRSS')}`,
              `${P}_server_rss_peak_kib=${procKib(o.serverPid, 'VmHWM')}`);
  process.stdout.write(pout.join('\n') + '\n');
  await fresh.close();
  await remote.close();
  pull.agent.destroy();
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (o.mode === 'repl') await mainRepl(o);
  else await mainRaw(o);
}

main().then(() => process.exit(0), (e) => die(e.stack || String(e)));
