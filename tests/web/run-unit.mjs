// Runs the browser app's unit tests bundled by `node build.mjs --unit-tests --out DIR`
// (clients/web/test/unit/*.test.ts -> DIR/*.test.cjs) with node:test.
// Usage: node tests/web/run-unit.mjs DIR   (ctest: web_unit)
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.argv[2];
if (!dir) {
  console.error("usage: node run-unit.mjs DIR");
  process.exit(2);
}
const { tests } = JSON.parse(readFileSync(join(dir, "unit-tests.json"), "utf8"));
if (!tests.length) {
  console.log("web_unit: no test under clients/web/test/unit yet");
  process.exit(0);
}
// Files named explicitly: `node --test DIR` finds files differently from one Node to another.
const r = spawnSync(process.execPath, ["--enable-source-maps", "--test", ...tests.map((t) => join(dir, t))],
  { stdio: "inherit" });
process.exit(r.status ?? 1);
