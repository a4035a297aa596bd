// Derives departements.geojson (committed beside this script) from the two files of the
// france-geojson project (see README.md): the 96 simplified metropolitan outlines, plus the
// five overseas départements, which that project ships unsimplified and which are therefore
// simplified here (Douglas-Peucker) to the density of the metropolitan ones.
// Usage: node geo/derive.mjs SOURCE_DIR > geo/departements.geojson
// Not run by the build: the build reads the committed output.
import { readFileSync } from "node:fs";
import { join } from "node:path";

const DECIMALS = 4;            // ~10 m: plenty for an outline drawn under markers
const OVERSEAS = ["971", "972", "973", "974", "976"];
const TOLERANCE = 0.001;       // degrees (~100 m), for the overseas outlines only

const dir = process.argv[2];
if (!dir) {
  console.error("usage: node derive.mjs SOURCE_DIR");
  process.exit(2);
}
const load = (f) => JSON.parse(readFileSync(join(dir, f), "utf8"));
const metro = load("departements-version-simplifiee.geojson").features;
const overseas = load("departements-avec-outre-mer.geojson").features
  .filter((f) => OVERSEAS.includes(f.properties.code));

const round = (x) => Number(x.toFixed(DECIMALS));

// Distance from p to the segment a-b, in degrees (planar: fine at this scale).
function segDist(p, a, b) {
  const dx = b[0] - a[0], dy = b[1] - a[1];
  const len2 = dx * dx + dy * dy;
  let t = len2 ? ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2 : 0;
  t = Math.max(0, Math.min(1, t));
  return Math.hypot(p[0] - a[0] - t * dx, p[1] - a[1] - t * dy);
}

function douglasPeucker(pts, tol) {
  const keep = new Uint8Array(pts.length);
  keep[0] = keep[pts.length - 1] = 1;
  const stack = [[0, pts.length - 1]];
  while (stack.length) {
    const [i, j] = stack.pop();
    let best = -1, far = 0;
    for (let k = i + 1; k < j; k++) {
      const d = segDist(pts[k], pts[i], pts[j]);
      if (d > far) { far = d; best = k; }
    }
    if (best >= 0 && far > tol) {
      keep[best] = 1;
      stack.push([i, best], [best, j]);
    }
  }
  return pts.filter((_, k) => keep[k]);
}

// A closed ring: simplify its two halves (split at the middle point) so both ends stay fixed.
function simplifyRing(ring, tol) {
  if (!tol || ring.length < 8) return ring;
  const mid = ring.length >> 1;
  const a = douglasPeucker(ring.slice(0, mid + 1), tol);
  const b = douglasPeucker(ring.slice(mid), tol);
  return a.concat(b.slice(1));
}

// Rounds, drops repeated points, and drops rings that collapse (fewer than 4 positions).
function ring(r, tol) {
  const out = [];
  for (const p of simplifyRing(r, tol)) {
    const q = [round(p[0]), round(p[1])];
    const last = out[out.length - 1];
    if (!last || last[0] !== q[0] || last[1] !== q[1]) out.push(q);
  }
  return out.length >= 4 ? out : null;
}

function polygon(rings, tol) {
  const out = [];
  for (let i = 0; i < rings.length; i++) {
    const r = ring(rings[i], tol);
    if (r) out.push(r);
    else if (i === 0) return null;   // outer ring gone: the whole (tiny) island goes
  }
  return out;
}

function geometry(g, tol) {
  if (g.type === "Polygon") return { type: "Polygon", coordinates: polygon(g.coordinates, tol) };
  const polys = g.coordinates.map((p) => polygon(p, tol)).filter(Boolean);
  return polys.length === 1 ? { type: "Polygon", coordinates: polys[0] } : { type: "MultiPolygon", coordinates: polys };
}

const features = [
  ...metro.map((f) => [f, 0]),
  ...overseas.map((f) => [f, TOLERANCE]),
].map(([f, tol]) => ({
  type: "Feature",
  properties: { code: f.properties.code, nom: f.properties.nom },
  geometry: geometry(f.geometry, tol),
})).sort((a, b) => a.properties.code.localeCompare(b.properties.code));

// One feature per line: small diffs, readable with grep.
process.stdout.write('{"type":"FeatureCollection","features":[\n' +
  features.map((f) => JSON.stringify(f)).join(",\n") + "\n]}\n");
