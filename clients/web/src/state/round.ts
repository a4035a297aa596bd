/* What an opened round shows, read from the phone's local store (store/local.ts): the persons
 * the team holds with their profile and the notices about them, the encounters, the outbox,
 * and the shelter requests with the SIAO's proposals and the centres' decisions (folded as the
 * desk folds them, state/orient.ts). Plain data for the views, re-read whenever the store
 * says records moved. */
import { PersonField } from "../gen/veille/v1/records_pb";
import { errorMessage } from "../net/errors";
import type { LocalStore, OutboxOp } from "../store/local";
import type { Household, Need, RequestView, Service } from "./model";
import { deriveOrientations } from "./orient";
import { householdOf, noticeText, profileOf, type Profile } from "./profile";
import { Records } from "./records";

/** A person the team holds, as the search and their screen show them. */
export interface PersonItem {
  id: string;
  givenName: string;
  familyName: string;
  nickname: string;
  birthYear: number | null;
  profile: Profile;
  household: Household;
  /** changes about them still on the phone */
  pending: number;
  /** the colleagues' values that won over this phone's edits, until acknowledged
   * ("Modifié aussi par un collègue : …") */
  notices: string[];
}

/** An encounter this phone knows, newest first. */
export interface EncounterItem {
  id: string;
  personId: string;
  occurredAt: number;
  needs: Need[];
  services: Service[];
  area: string;
  note: string;
  /** "" unless this phone's professional may read it (a health professional) */
  healthNote: string;
  /** 0: received by the server */
  pending: number;
}

/** What the outbox list shows: a record waiting (an encounter and the new person it is about
 * are one: store/local.ts OutboxOp.save), or an op the server refused. */
export interface OutboxItem {
  opCounter: number;
  kind: string;
  state: "pending" | "rejected";
  /** the person it is about, for the list's wording ("" if unknown) */
  personId: string;
  at: number;
  /** rejected: the reason, in French */
  reason?: string;
}

/** A shelter request of the team, where it stands (RequestView); pending: ops about it still
 * on the phone (a request never received by the server has no date nor answer yet). */
export interface RequestItem {
  view: RequestView;
  pending: number;
}

export interface RoundRecords {
  persons: PersonItem[];
  encounters: EncounterItem[];
  outbox: OutboxItem[];
  requests: RequestItem[];
}

/** Everything a round shows, read from store. health: the professional may read HEALTH
 * fields (the server sends them to no one else; this holds if it ever did); centreName names
 * a centre from the places. */
export async function readRound(
  store: LocalStore,
  { health, centreName }: { health: boolean; centreName(id: string): string },
): Promise<RoundRecords> {
  const [ps, es, ops, notices, ...orientation] = await Promise.all([
    store.all("person"),
    store.all("encounter"),
    store.outbox(),
    store.notices(),
    store.all("request"),
    store.all("proposal"),
    store.all("decision"),
  ]);
  const persons = ps.map(({ change, pending }): PersonItem => {
    const profile = change.record.case === "person" ? profileOf(change.record.value) : {};
    const text = (f: PersonField) => String(profile[f] ?? "");
    return {
      id: change.recordId,
      givenName: text(PersonField.GIVEN_NAME),
      familyName: text(PersonField.FAMILY_NAME),
      nickname: text(PersonField.NICKNAME),
      birthYear: Number(profile[PersonField.BIRTH_YEAR]) || null,
      profile,
      household: householdOf(profile),
      pending,
      notices: (notices.get(change.recordId) ?? []).map(noticeText),
    };
  });
  persons.sort((a, b) => (a.nickname || a.givenName).localeCompare(b.nickname || b.givenName, "fr") || a.id.localeCompare(b.id));

  const encounters: EncounterItem[] = [];
  for (const { change, pending } of es) {
    if (change.record.case !== "encounter") continue;
    const e = change.record.value;
    encounters.push({
      id: change.recordId,
      personId: e.personId,
      occurredAt: Number(e.occurredAtMs),
      needs: e.needs as Need[],
      services: e.services as Service[],
      area: e.location?.area ?? "",
      note: e.note,
      healthNote: health ? e.healthNote : "",
      pending,
    });
  }
  encounters.sort((a, b) => b.occurredAt - a.occurredAt);

  const rec = new Records();
  const all = orientation.flat();
  rec.apply(all.map((r) => r.change));
  const pendingOf = new Map(all.map((r) => [r.change.recordId, r.pending]));
  const o = deriveOrientations(rec, { structureId: "", isCentre: false, centreName });
  const requests = o.requests.map((view) => ({ view, pending: pendingOf.get(view.id) ?? 0 }));

  return { persons, encounters, outbox: outboxItems(ops), requests };
}

/* One item per record waiting (shown by the op the others were saved with, if it waits too)
 * and one per op refused, in counter order. */
function outboxItems(ops: OutboxOp[]): OutboxItem[] {
  const waiting = new Map<number, OutboxOp>();
  for (const o of ops) if (o.state === "pending" && (!waiting.has(o.save) || o.opCounter === o.save)) waiting.set(o.save, o);
  const refused = ops.filter((o) => o.state === "rejected");
  return [...waiting.values(), ...refused].sort((a, b) => a.opCounter - b.opCounter).map(outboxItem);
}

function outboxItem(op: OutboxOp): OutboxItem {
  const r = op.mutation.record;
  const personId = r.case === "encounter" || r.case === "request" ? r.value.personId : r.case === "person" ? op.recordId : "";
  const at = r.case === "encounter" ? Number(r.value.occurredAtMs) : (op.result?.atMs ?? 0);
  return {
    opCounter: op.opCounter,
    kind: op.kind,
    state: op.state,
    personId,
    at,
    reason: op.result ? errorMessage({ code: op.result.code, message: op.result.reason }) : undefined,
  };
}
