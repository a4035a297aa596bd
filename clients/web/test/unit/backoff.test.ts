/* net/backoff.ts: full jitter under a bound that doubles from 0.5 s to 30 s (the vectors of
 * libveille's tests/client/test_backoff.c). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Backoff, BACKOFF_CAP_MS, BACKOFF_FIRST_MS } from "../../src/net/backoff";

const HIGHEST = 1 - Number.EPSILON; /* Math.random's largest value */

/** A random source that returns the given values in turn. */
function draws(...values: number[]): () => number {
  return () => values.shift() ?? 0;
}

test("the bound doubles to the cap; a draw is below it", () => {
  const bounds = [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000];
  const b = new Backoff(draws(...bounds.map(() => HIGHEST), 0));
  for (const bound of bounds) assert.equal(b.next(), bound - 1);
  assert.equal(b.next(), 0);
});

test("reset starts over at 0.5 s", () => {
  const b = new Backoff(() => HIGHEST);
  for (let i = 0; i < 10; i++) b.next();
  assert.equal(b.next(), BACKOFF_CAP_MS - 1);
  b.reset();
  assert.equal(b.next(), BACKOFF_FIRST_MS - 1);
});

test("an out-of-range draw is clamped into [0, bound)", () => {
  const b = new Backoff(draws(0, 1.5, -3));
  assert.equal(b.next(), 0);
  assert.equal(b.next(), 999); /* libveille's "broken" source: clamped to bound - 1 */
  assert.equal(b.next(), 0);
});

test("Math.random by default: waits stay in bounds", () => {
  const b = new Backoff();
  for (let i = 0, bound = BACKOFF_FIRST_MS; i < 20; i++, bound = Math.min(bound * 2, BACKOFF_CAP_MS)) {
    const w = b.next();
    assert.ok(Number.isInteger(w) && w >= 0 && w < bound, `${w} in [0, ${bound})`);
  }
});
