/* state/geohash.ts against the definition's published vectors. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { geohashEncode } from "../../src/state/geohash";

test("geohash: the definition's vectors", () => {
  /* Niemeyer's own example (geohash.org/u4pruydqqvj): Jutland, 57.64911 N 10.40744 E */
  assert.equal(geohashEncode(57.64911, 10.40744, 11), "u4pruydqqvj");
  assert.equal(geohashEncode(57.64911, 10.40744), "u4pruy");
  /* Wikipedia's worked example: 42.6, -5.6 -> ezs42 */
  assert.equal(geohashEncode(42.6, -5.6, 5), "ezs42");
  assert.equal(geohashEncode(0, 0, 1), "s");
  assert.equal(geohashEncode(-90, -180, 2), "00");
});

test("geohash: refuses what is not a place", () => {
  assert.throws(() => geohashEncode(91, 0), RangeError);
  assert.throws(() => geohashEncode(0, NaN), RangeError);
  assert.throws(() => geohashEncode(0, 0, 0), RangeError);
});
