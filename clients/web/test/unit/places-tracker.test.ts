/* net/connection.ts PlacesTracker: the gap rule of docs/places.md, with the vectors of
 * libveille's tests/client/test_places.c. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { PlacesDeltaSchema, PlacesSnapshotSchema } from "../../src/gen/veille/v1/places_pb";
import { PlacesTracker } from "../../src/net/connection";

const snapshot = (...territories: [string, bigint][]) => ({
  snapshot: create(PlacesSnapshotSchema, { territories: territories.map(([territory, seq]) => ({ territory, seq })) }),
});
const delta = (territory: string, seq: bigint) => ({
  delta: create(PlacesDeltaSchema, { seq, centre: { structureId: "chrs-1", territory } }),
});

test("in order, then a gap; nothing until a new snapshot; a repeat is a gap too", () => {
  const t = new PlacesTracker();
  assert.equal(t.apply(delta("75", 1n)), "ignored"); /* no snapshot yet */
  assert.equal(t.apply(snapshot(["75", 5n])), "applied");
  assert.equal(t.apply(delta("75", 6n)), "applied");
  assert.equal(t.apply(delta("75", 7n)), "applied");
  assert.equal(t.apply(delta("75", 9n)), "gap"); /* 8 is missing */
  assert.equal(t.apply(delta("75", 10n)), "ignored"); /* not live any more */
  assert.equal(t.apply(snapshot(["75", 10n])), "applied");
  assert.equal(t.apply(delta("75", 10n)), "gap"); /* a repeat */
  assert.equal(t.apply(delta("75", 11n)), "ignored");
});

test("each territory has its own sequence; a new snapshot replaces the subscription", () => {
  const t = new PlacesTracker();
  t.apply(snapshot(["75", 1n], ["93", 40n]));
  assert.equal(t.apply(delta("93", 41n)), "applied");
  assert.equal(t.apply(delta("75", 2n)), "applied");
  assert.equal(t.apply(delta("75", 4n)), "gap");
  assert.equal(t.apply(delta("93", 42n)), "applied"); /* 93 is still live */
  assert.equal(t.apply(delta("13", 1n)), "ignored"); /* not subscribed */
  t.apply(snapshot(["75", 4n]));
  assert.equal(t.apply(delta("93", 43n)), "ignored");
  assert.equal(t.apply(delta("75", 5n)), "applied");
  assert.equal(t.apply({ delta: create(PlacesDeltaSchema, { seq: 6n }) }), "ignored"); /* no centre */
});
