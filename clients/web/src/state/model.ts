/* What the views show, and what they can ask for: plain data derived from the protocol's
 * messages by the state layer (places.ts, orient.ts, people.ts, stats.ts), and the actions a
 * signed-in professional may take. Views import only this module, labels.ts and observable.ts
 * from the state layer; they never see a key, a socket or a protobuf message.
 *
 * Times are milliseconds of the server's clock (`Desk.clock`, ticking once a second), so ages
 * and countdowns agree with the server's stale flags and hold ends. */
import type { Observable } from "./observable";
import type { LinkStatus } from "../net/connection";

export type { LinkStatus };

/* Enumerations, as numbers of the wire protocol (proto/veille/v1); labels.ts gives the French
 * words. Kept here as literal unions so that views need no generated code. */
export type Category = 1 | 2 | 3 | 4 | 5 | 6 | 7; /* PlaceCategory: homme_seul ... animal */
export const CATEGORIES: readonly Category[] = [1, 2, 3, 4, 5, 6, 7];
export type Urgency = 0 | 1 | 2 | 3; /* 1 ce soir, 2 dans les jours qui viennent, 3 sans urgence */
export type RefusalMotive = 1 | 2 | 3 | 4 | 5 | 6;
export type Need = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8;
export type Service = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10 | 11;
export type Role = number; /* Role of auth.proto, the values of ROLE */
export type StructureKind = number; /* StructureKind of auth.proto: 1 SIAO, 3 accueil de jour, 5 CHRS, 6 CHU, 7 CPH ... */

/** The roles the desk tells apart (auth.proto's Role; the one list of them for views and state). */
export const ROLE = {
  MARAUDEUR: 1,
  ACCUEILLANT: 2,
  ECOUTANT_115: 3,
  COORDINATEUR_SIAO: 4,
  RESPONSABLE_CENTRE: 5,
  PROFESSIONNEL_SANTE: 7,
  SUPERVISEUR: 8,
  ADMINISTRATEUR: 9,
} as const;

/** Whether role may read HEALTH fields, hence write them (server/policy.c role_classes; L1110-4
 * CSP): the health professionals only. */
export function readsHealth(role: Role): boolean {
  return role === ROLE.PROFESSIONNEL_SANTE;
}

/** Structures that are centres and receive proposals: CHRS, CHU, CPH. */
export function isCentreKind(k: StructureKind): boolean {
  return k === 5 || k === 6 || k === 7;
}

export type Counts = Partial<Record<Category, number>>;

export interface Principal {
  professionalId: string;
  displayName: string;
  structureId: string;
  structureName: string;
  role: Role;
  territory: string;
  structureKind: StructureKind;
}

/* ---- places (OPERATIONAL: nothing about a person) ---- */

export interface Centre {
  id: string;
  name: string;
  kind: StructureKind;
  territory: string;
  address: string;
  location: { lat: number; lon: number } | null;
  capacity: Counts;
  vacancies: Counts; /* as last declared */
  held: Counts; /* held by proposals awaiting a decision */
  free: Counts; /* vacancies - held: what may be proposed */
  declaredAt: number; /* 0: never declared */
  periodMs: number;
  stale: boolean;
  changedAt: number; /* local time of the last delta for this centre: views highlight it briefly */
}

export interface Places {
  /** false until the first snapshot of this session */
  loaded: boolean;
  territory: string;
  centres: Centre[]; /* sorted by name: a row never moves when its numbers change */
  receivedAt: number; /* server time of the last snapshot or delta */
}

/* ---- orientations (the DECISION fields the rules give the caller; docs/orientations.md) ---- */

export interface Household {
  adults: number;
  children: number;
  reducedMobility: boolean;
  animal: boolean;
  languages: string;
}

export type ProposalStatus = "held" | "expired" | "admitted" | "refused";

export interface Refusal {
  decisionId: string;
  centreId: string;
  centreName: string;
  motive: RefusalMotive;
  motiveText: string;
  decidedAt: number;
}

export interface ProposalView {
  id: string;
  requestId: string;
  centreId: string;
  centreName: string;
  category: Category;
  holdUntil: number;
  status: ProposalStatus;
  refusal: Refusal | null;
  admission: AdmissionView | null;
}

export type RequestStatus = "waiting" | "proposed" | "admitted" | "withdrawn";

export interface RequestView {
  id: string;
  household: Household;
  urgency: Urgency;
  categories: Category[];
  requestedAt: number;
  requesterId: string; /* the requester's structure id (not a person) */
  requesterName: string; /* the structure's name (its id on records stored before names) */
  status: RequestStatus;
  /** the proposal awaiting a decision, if any */
  pending: ProposalView | null;
  /** earlier proposals that ended (refused, expired), newest first */
  history: ProposalView[];
  /** for the requester's own structure only: the person this request is about */
  personId: string | null;
}

export interface Reminder {
  kind: 1 | 2 | 3 | 4; /* bilan, extension deadline, extension deemed accepted, end */
  dueAt: number;
}

export interface AdmissionView {
  decisionId: string;
  proposalId: string;
  category: Category;
  startAt: number;
  endAt: number;
  reminders: Reminder[];
  emergency: boolean;
}

export interface Orientations {
  loaded: boolean;
  /** SIAO: open requests, most urgent first then oldest first; others: their own requests */
  requests: RequestView[];
  /** centre desk: proposals to this centre awaiting its decision, oldest first, with the
   * request's DECISION fields */
  incoming: { proposal: ProposalView; request: RequestView | null }[];
  /** refusals seen live this session, newest first (SIAO, requester) */
  refusals: Refusal[];
  /** centre desk: admissions of this centre, with their dates to watch */
  admissions: AdmissionView[];
}

/* ---- persons and encounters (day-centre terminal; only what the team holds) ---- */

export interface PersonView {
  id: string;
  givenName: string;
  familyName: string;
  nickname: string;
  birthYear: number | null;
  household: Household;
  lastEncounterAt: number; /* 0: none */
  encounters: EncounterView[]; /* newest first */
}

export interface EncounterView {
  id: string;
  occurredAt: number;
  needs: Need[];
  services: Service[];
  note: string;
  area: string;
  teamId: string;
}

export interface People {
  loaded: boolean;
  persons: PersonView[]; /* by name */
}

/* ---- the day's indicators (aggregates only) ---- */

export interface Indicators {
  loaded: boolean;
  day: string; /* "2026-12-07", Europe/Paris */
  requests: number;
  unmet: number; /* demandes non pourvues */
  proposals: number;
  proposalsExpired: number;
  admissions: number;
  emergencyAdmissions: number;
  refusals: number;
  refusalsByMotive: Partial<Record<RefusalMotive, number>>;
  encounters: number;
  fetchedAt: number;
}

/* ---- actions ---- */

/** Every action answers this: ok, or a French message saying what happened and what to do. */
export type Outcome = { ok: true; id?: string } | { ok: false; message: string };

export interface NewPerson {
  givenName: string;
  familyName: string;
  nickname: string;
  birthYear: number | null;
}

export interface NewEncounter {
  personId: string;
  needs: Need[];
  services: Service[];
  note: string;
}

export interface NewRequest {
  personId: string;
  household: Household;
  urgency: Urgency;
  categories: Category[];
  note: string;
}

export interface Actions {
  /* centre desk */
  declare(vacancies: Counts): Promise<Outcome>;
  admit(proposalId: string, startAt: number, endAt: number): Promise<Outcome>;
  refuse(proposalId: string, motive: RefusalMotive, motiveText: string): Promise<Outcome>;
  /* SIAO coordinator */
  propose(requestId: string, centreId: string, category: Category): Promise<Outcome>;
  /* day-centre terminal */
  createPerson(p: NewPerson): Promise<Outcome>; /* id: the new person's id */
  recordEncounter(e: NewEncounter): Promise<Outcome>;
  requestShelter(r: NewRequest): Promise<Outcome>;
  /* session */
  lock(): void;
  signOut(): void;
}

/** One signed-in professional's desk: everything the views of their role read. */
export interface Desk {
  principal: Principal;
  link: Observable<LinkStatus>;
  clock: Observable<number>; /* server time, ticking every second */
  places: Observable<Places>;
  orientations: Observable<Orientations>;
  people: Observable<People>;
  indicators: Observable<Indicators>;
  actions: Actions;
  /** the map's tile layer, when configured (else the département outline alone) */
  tiles: { url: string; attribution: string } | null;
}
