/* state/maraude.ts's pure rules: the waits after wrong PINs, the search's folding. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { MAX_PIN_TRIES, pinDelayMs } from "../../src/state/maraude";
import { fold as foldText } from "../../src/state/search";

test("wrong PINs: three free tries, then growing waits, never shrinking", () => {
  assert.equal(MAX_PIN_TRIES, 10);
  assert.deepEqual([0, 1, 2, 3].map(pinDelayMs), [0, 0, 0, 0]);
  assert.equal(pinDelayMs(4), 5_000);
  let last = 0;
  for (let n = 1; n < MAX_PIN_TRIES; n++) {
    assert.ok(pinDelayMs(n) >= last, `wait after ${n} wrong PINs`);
    last = pinDelayMs(n);
  }
  assert.equal(pinDelayMs(9), 300_000);
  assert.equal(pinDelayMs(50), 300_000);
});

test("search: accents, case, apostrophes and hyphens do not matter", () => {
  assert.equal(foldText("Hélène"), "helene");
  assert.equal(foldText("Zéphyrin-Quokka"), "zephyrin quokka");
  assert.equal(foldText("N'Diaye"), "n diaye");
  assert.equal(foldText("Œuvre"), "oeuvre");
});
