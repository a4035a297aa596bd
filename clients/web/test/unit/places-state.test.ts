/* state/places.ts PlacesState: the centres stay in name order (French collation) as deltas
 * replace, rename and add centres one at a time. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { PlacesDeltaSchema, PlacesSnapshotSchema } from "../../src/gen/veille/v1/places_pb";
import { PlacesState } from "../../src/state/places";

const centre = (structureId: string, name: string) => ({ structureId, name, territory: "75" });
const names = (p: PlacesState) => p.value.value.centres.map((c) => c.name);

test("deltas keep the centres in name order: replaced in place, renamed, added", () => {
  const p = new PlacesState("75");
  p.snapshot(
    create(PlacesSnapshotSchema, {
      territories: [{ territory: "75", seq: 1n, centres: [centre("c", "Élan"), centre("a", "Abri"), centre("b", "Cèdre")] }],
    }),
  );
  assert.deepEqual(names(p), ["Abri", "Cèdre", "Élan"]); /* é sorts with e, not after z */
  const before = p.value.value.centres;
  assert.ok(p.delta(create(PlacesDeltaSchema, { seq: 2n, centre: centre("b", "Cèdre") })));
  assert.deepEqual(names(p), ["Abri", "Cèdre", "Élan"]);
  assert.notEqual(p.value.value.centres, before, "a new list: views compare by identity");
  assert.equal(before.length, 3, "the previous list is not changed");
  assert.ok(p.delta(create(PlacesDeltaSchema, { seq: 3n, centre: centre("a", "Zénith") })));
  assert.deepEqual(names(p), ["Cèdre", "Élan", "Zénith"]);
  assert.ok(p.delta(create(PlacesDeltaSchema, { seq: 4n, centre: centre("d", "Bastion") })));
  assert.deepEqual(names(p), ["Bastion", "Cèdre", "Élan", "Zénith"]);
  assert.ok(p.delta(create(PlacesDeltaSchema, { seq: 5n, centre: centre("e", "Élan") })));
  assert.deepEqual(p.value.value.centres.map((c) => c.id), ["d", "b", "c", "e", "a"], "same names: by id");
  assert.equal(p.delta(create(PlacesDeltaSchema, { seq: 9n, centre: centre("a", "Abri") })), false, "a gap");
});
