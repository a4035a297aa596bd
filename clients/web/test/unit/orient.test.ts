/* state/records.ts and state/orient.ts: pulled changes folded into what the SIAO's queue and a
 * centre's desk show (docs/orientations.md); a new request's record. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { ChangeSchema, type Change } from "../../src/gen/veille/v1/sync_pb";

type RecordInit = MessageInitShape<typeof ChangeSchema>["record"];
import { DecisionKind, ProposalStatus, RefusalMotive, Urgency } from "../../src/gen/veille/v1/orientation_pb";
import { PlaceCategory } from "../../src/gen/veille/v1/places_pb";
import { PersonField } from "../../src/gen/veille/v1/records_pb";
import { Records } from "../../src/state/records";
import { deriveOrientations, openRequests, requestRecord } from "../../src/state/orient";
import { derivePeople } from "../../src/state/people";

let seq = 0n;
const change = (recordId: string, version: number, record: RecordInit): Change =>
  create(ChangeSchema, { seq: ++seq, recordId, version: BigInt(version), record });
const request = (id: string, urgency: Urgency, at: number, version = 1, withdrawn = false) =>
  change(id, version, {
    case: "request",
    value: { householdAdults: 1, urgency, categories: [PlaceCategory.HOMME_SEUL], requestedAtMs: BigInt(at), requesterId: "maraude-1", withdrawn },
  });
const proposal = (id: string, requestId: string, status = ProposalStatus.HELD) =>
  change(id, status === ProposalStatus.HELD ? 1 : 2, {
    case: "proposal",
    value: { requestId, centreId: "chrs-1", category: PlaceCategory.HOMME_SEUL, holdUntilMs: 5000n, status },
  });
const decision = (id: string, proposalId: string, kind: DecisionKind) =>
  change(id, 1, {
    case: "decision",
    value: { proposalId, kind, motive: RefusalMotive.SECURITE, motiveText: "motif", centreId: "chrs-1", decidedAtMs: 4000n, endMs: 9000n },
  });
const ctx = (structureId: string, isCentre: boolean) => ({ structureId, isCentre, centreName: (id: string) => `nom de ${id}` });

test("the queue: tonight first, then in the coming days, then planned; oldest first within each", () => {
  const r = new Records();
  r.apply([request("r-planned", Urgency.PLANNED, 100), request("r-days", Urgency.DAYS, 300), request("r-tonight-new", Urgency.TONIGHT, 900),
    request("r-tonight-old", Urgency.TONIGHT, 200), request("r-none", Urgency.UNSPECIFIED, 50)]);
  const o = deriveOrientations(r, ctx("siao-75", false));
  assert.deepEqual(openRequests(o).map((x) => x.id), ["r-tonight-old", "r-tonight-new", "r-days", "r-planned", "r-none"]);
});

test("a proposal pending, then refused: the request is back in the queue with the refusal", () => {
  const r = new Records();
  r.apply([request("r1", Urgency.TONIGHT, 1), proposal("p1", "r1")]);
  let o = deriveOrientations(r, ctx("siao-75", false));
  assert.equal(o.requests[0]!.status, "proposed");
  assert.equal(o.requests[0]!.pending?.centreName, "nom de chrs-1");
  r.apply([decision("d1", "p1", DecisionKind.REFUSAL)]);
  o = deriveOrientations(r, ctx("siao-75", false));
  assert.equal(o.requests[0]!.status, "waiting");
  assert.equal(o.requests[0]!.history[0]!.status, "refused");
  assert.deepEqual(o.refusals.map((x) => [x.centreId, x.motive, x.motiveText]), [["chrs-1", RefusalMotive.SECURITE, "motif"]]);
});

test("an expired hold puts the request back; an admission closes it and shows on the centre's desk", () => {
  const r = new Records();
  r.apply([request("r1", Urgency.TONIGHT, 1), proposal("p1", "r1"), proposal("p1", "r1", ProposalStatus.EXPIRED)]);
  assert.equal(deriveOrientations(r, ctx("siao-75", false)).requests[0]!.status, "waiting");
  r.apply([proposal("p2", "r1")]);
  const centre = deriveOrientations(r, ctx("chrs-1", true));
  assert.deepEqual(centre.incoming.map((x) => [x.proposal.id, x.request?.id]), [["p2", "r1"]]);
  r.apply([decision("d2", "p2", DecisionKind.ADMISSION)]);
  const after = deriveOrientations(r, ctx("chrs-1", true));
  assert.equal(after.requests[0]!.status, "admitted");
  assert.equal(after.incoming.length, 0);
  assert.deepEqual(after.admissions.map((a) => [a.decisionId, a.endAt]), [["d2", 9000]]);
  assert.equal(openRequests(after).length, 0);
});

test("a withdrawn change drops the record; an older version never replaces a newer one", () => {
  const r = new Records();
  r.apply([request("r1", Urgency.TONIGHT, 1, 2), request("r1", Urgency.DAYS, 1, 1)]);
  assert.equal(r.requests.get("r1")!.value.urgency, Urgency.TONIGHT);
  r.apply([create(ChangeSchema, { seq: ++seq, recordId: "r1", withdrawn: true })]);
  assert.equal(r.requests.size, 0);
  assert.equal(deriveOrientations(r, ctx("siao-75", false)).requests.length, 0);
});

test("persons: the fields the team holds, cleared ones empty, encounters newest first", () => {
  const r = new Records();
  const hlc = { wallMs: 1n, counter: 0, deviceId: new Uint8Array(16) };
  r.apply([
    change("p1", 2, { case: "person", value: { fields: [
      { field: PersonField.NICKNAME, hlc, value: { case: "text", value: "Jo" } },
      { field: PersonField.GIVEN_NAME, hlc, cleared: true },
      { field: PersonField.BIRTH_YEAR, hlc, value: { case: "number", value: 1971n } },
    ] } }),
    change("e1", 1, { case: "encounter", value: { personId: "p1", occurredAtMs: 10n } }),
    change("e2", 1, { case: "encounter", value: { personId: "p1", occurredAtMs: 20n } }),
  ]);
  const [p] = derivePeople(r).persons;
  assert.equal(p!.nickname, "Jo");
  assert.equal(p!.givenName, "");
  assert.equal(p!.birthYear, 1971);
  assert.deepEqual(p!.encounters.map((e) => e.id), ["e2", "e1"]);
  assert.equal(p!.lastEncounterAt, 20);
});

test("a new shelter request's record: the household, urgency, categories and note trimmed", () => {
  const r = requestRecord({
    personId: "ab".repeat(16),
    household: { adults: 2, children: 1, reducedMobility: true, animal: false, languages: " dari " },
    urgency: 1,
    categories: [3, 4],
    note: " avec un chien ",
  });
  assert.deepEqual(r, {
    personId: "ab".repeat(16),
    householdAdults: 2,
    householdChildren: 1,
    reducedMobility: true,
    animal: false,
    languages: "dari",
    urgency: 1,
    categories: [3, 4],
    note: "avec un chien",
  });
});
