/* One signed-in professional's desk: the live connection, the records and places it holds in
 * memory, the derived views, and the actions of their role. Everything here lives only while
 * the session is open: `close()` (lock, sign-out, revocation) stops the connection and drops
 * every record; the keys themselves live in the key worker, which the caller terminates. */
import { create } from "@bufbuild/protobuf";
import { CategoryCountSchema } from "../gen/veille/v1/places_pb";
import { MutationSchema, OpStatus, type Change, type Mutation } from "../gen/veille/v1/sync_pb";
import { DecisionKind } from "../gen/veille/v1/orientation_pb";
import { PersonField, type Hlc as WireHlc, type PersonFieldValue } from "../gen/veille/v1/records_pb";
import type { AuthOk } from "../gen/veille/v1/auth_pb";
import { Connection, type LinkStatus } from "../net/connection";
import { errorMessage, isOffline } from "../net/errors";
import { fromHex, newRecordId } from "../net/ids";
import { Hlc } from "../net/hlc";
import type { Account } from "../store/accounts";
import * as accounts from "../store/accounts";
import type { Keys } from "../crypto/keys";
import { Observable } from "./observable";
import { PlacesState } from "./places";
import { Records } from "./records";
import { deriveOrientations, requestRecord } from "./orient";
import { derivePeople } from "./people";
import { indicatorsOf, NO_INDICATORS } from "./stats";
import { isCentreKind, ROLE, type Actions, type Counts, type Desk, type Indicators, type NewEncounter, type NewPerson, type NewRequest, type Orientations, type Outcome, type People, type Principal } from "./model";

/* Who may read the indicators (the server answers FORBIDDEN to the others) */
const STATS_ROLES = new Set<number>([ROLE.ECOUTANT_115, ROLE.COORDINATEUR_SIAO, ROLE.SUPERVISEUR, ROLE.ADMINISTRATEUR]);
const STATS_EVERY_MS = 30_000;
const STATS_AFTER_CHANGE_MS = 1_500;
/* An op that could not be answered (link lost mid-push) is sent again, same op id, while the
 * session lasts: the server answers DUPLICATE if it had applied it (docs/sync.md). */
const PUSH_ATTEMPTS = 5;

const OFFLINE = "Hors ligne : la connexion au serveur est perdue. L'action n'a pas été envoyée ; réessayez quand l'indicateur repasse « En direct ».";

export interface DeskOptions {
  url: string;
  account: Account;
  keys: Keys;
  tiles: Desk["tiles"];
  /** the first authentication succeeded: the desk can be shown */
  onReady(desk: Desk): void;
  /** the device was revoked: the caller erases its account and locks */
  onRevoked(): void;
  /** the lock button and sign-out: the shell's, which close this session */
  lock(): void;
  signOut(): void;
}

export class DeskSession {
  readonly link = new Observable<LinkStatus>({ kind: "connecting", attempt: 1 });
  readonly clock = new Observable<number>(Date.now());
  readonly orientations = new Observable<Orientations>({ loaded: false, requests: [], incoming: [], refusals: [], admissions: [] });
  readonly people = new Observable<People>({ loaded: false, persons: [] });
  readonly indicators = new Observable<Indicators>(NO_INDICATORS);
  private placesState: PlacesState | null = null;
  private readonly conn: Connection;
  private readonly records = new Records();
  private principal: Principal | null = null;
  private desk: Desk | null = null;
  private cursor = 0n;
  private pulling = false;
  private pullAgain = false;
  private closed = false;
  private timers: ReturnType<typeof setInterval>[] = [];
  private statsSoon: ReturnType<typeof setTimeout> | null = null;
  private readonly deviceId: Uint8Array;
  /* The device's clock (docs/sync.md): ticked by local edits, moved by every stamp pulled. */
  private readonly hlc: Hlc;

  constructor(private readonly opts: DeskOptions) {
    this.deviceId = fromHex(opts.account.deviceIdHex);
    this.hlc = new Hlc(this.deviceId, opts.account.hlc);
    this.conn = new Connection({
      url: opts.url,
      deviceId: this.deviceId,
      serverId: fromHex(opts.account.serverIdHex),
      signer: opts.keys,
      client: "veille-web/0.1",
      onStatus: (s) => this.link.set(s),
      onLive: (ok) => void this.live(ok),
      onPoke: () => void this.pullAll(),
      onPlaces: (ev) => this.onPlaces(ev),
      onRevoked: () => {
        this.close();
        opts.onRevoked();
      },
    });
    this.timers.push(setInterval(() => this.clock.set(this.conn.serverNow()), 1000));
  }

  start(): void {
    this.conn.start();
  }

  /** Stops the connection and drops every record and place held. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.conn.stop();
    for (const t of this.timers) clearInterval(t);
    if (this.statsSoon) clearTimeout(this.statsSoon);
    this.records.clear();
    this.orientations.set({ loaded: false, requests: [], incoming: [], refusals: [], admissions: [] });
    this.people.set({ loaded: false, persons: [] });
    this.indicators.set(NO_INDICATORS);
    this.placesState = null;
    this.desk = null;
  }

  private async live(ok: AuthOk): Promise<void> {
    const p = ok.principal;
    if (!p || this.closed) return;
    if (!this.principal) {
      this.principal = {
        professionalId: p.professionalId,
        displayName: p.displayName,
        structureId: p.structureId,
        structureName: p.structureName,
        role: p.role,
        territory: p.territory,
        structureKind: p.structureKind,
      };
      this.placesState = new PlacesState(p.territory);
      this.desk = this.makeDesk(this.principal, this.placesState);
      this.opts.onReady(this.desk);
      if (STATS_ROLES.has(p.role)) this.timers.push(setInterval(() => void this.refreshStats(), STATS_EVERY_MS));
    }
    this.clock.set(this.conn.serverNow());
    await this.subscribe();
    void this.refreshStats();
    void this.pullAll();
  }

  /** Subscribes to the territory's places; the snapshot arrives through onPlaces, in order
   * with the deltas. */
  private async subscribe(): Promise<void> {
    try {
      await this.conn.subscribePlaces([], []);
    } catch {
      /* offline again: the next authentication subscribes again */
    }
  }

  private onPlaces(ev: Parameters<ConstructorParameters<typeof Connection>[0]["onPlaces"]>[0]): void {
    if (!this.placesState) return;
    if ("snapshot" in ev) {
      this.placesState.snapshot(ev.snapshot);
      this.publishOrientations(); /* centre names */
      return;
    }
    if (!this.placesState.delta(ev.delta)) {
      void this.subscribe(); /* a gap: a fresh snapshot (docs/places.md) */
      return;
    }
    this.statsAfterChange();
  }

  /** Supervisors and administrators hold no personal record: they never pull. */
  private pulls(): boolean {
    const r = this.principal?.role;
    return r !== undefined && r !== ROLE.SUPERVISEUR && r !== ROLE.ADMINISTRATEUR;
  }

  /** Pulls from the cursor until the server has nothing more; a call while pulling makes the
   * running loop go round once more (a poke during a pull is not lost). */
  private async pullAll(): Promise<void> {
    if (!this.pulls()) return;
    if (this.pulling) {
      this.pullAgain = true;
      return;
    }
    this.pulling = true;
    try {
      do {
        this.pullAgain = false;
        for (;;) {
          const page = await this.conn.pull(this.cursor, 500);
          if (this.closed) return;
          const changed = this.records.apply(page.changes);
          this.cursor = page.nextCursor;
          await this.observeStamps(page.changes);
          if (changed) this.publishRecords();
          if (!page.hasMore) break;
        }
      } while (this.pullAgain && !this.closed);
    } catch {
      /* offline: the next authentication pulls again from the cursor */
    } finally {
      this.pulling = false;
    }
    this.statsAfterChange();
  }

  /** L = max(L, every stamp pulled): an edit made after seeing a colleague's value is
   * stamped after it, even if this computer's clock is late. */
  private async observeStamps(changes: Change[]): Promise<void> {
    let moved = false;
    for (const ch of changes)
      if (ch.record.case === "person") for (const f of ch.record.value.fields) moved = this.hlc.observe(f.hlc) || moved;
    if (moved) await accounts.saveHlc(this.opts.account.deviceIdHex, this.hlc.last());
  }

  private publishRecords(): void {
    this.publishOrientations();
    this.people.set(derivePeople(this.records));
  }

  private publishOrientations(): void {
    const p = this.principal;
    if (!p || !this.pulls()) return;
    const places = this.placesState;
    this.orientations.set(
      deriveOrientations(this.records, {
        structureId: p.structureId,
        isCentre: isCentreKind(p.structureKind),
        centreName: (id) => places?.nameOf(id) ?? id,
      }),
    );
  }

  private statsAfterChange(): void {
    if (!this.principal || !STATS_ROLES.has(this.principal.role) || this.statsSoon) return;
    this.statsSoon = setTimeout(() => {
      this.statsSoon = null;
      void this.refreshStats();
    }, STATS_AFTER_CHANGE_MS);
  }

  private async refreshStats(): Promise<void> {
    if (!this.principal || !STATS_ROLES.has(this.principal.role) || this.closed) return;
    try {
      const r = await this.conn.stats();
      if (!this.closed) this.indicators.set(indicatorsOf(r, this.conn.serverNow()));
    } catch {
      /* offline: kept as they were, the view shows their time */
    }
  }

  /* ---- actions ---- */

  private makeDesk(principal: Principal, places: PlacesState): Desk {
    const actions: Actions = {
      declare: (v) => this.declare(v),
      propose: (requestId, centreId, category) =>
        this.push({ case: "proposal", value: { requestId, centreId, category } }),
      admit: (proposalId, startAt, endAt) =>
        this.push({ case: "decision", value: { proposalId, kind: DecisionKind.ADMISSION, startMs: BigInt(startAt), endMs: BigInt(endAt) } }),
      refuse: (proposalId, motive, motiveText) => {
        if (!motive || !motiveText.trim())
          return Promise.resolve({ ok: false, message: "Un refus doit être motivé : choisissez un motif et précisez-le." });
        return this.push({ case: "decision", value: { proposalId, kind: DecisionKind.REFUSAL, motive, motiveText: motiveText.trim() } });
      },
      createPerson: (p) => this.createPerson(p),
      recordEncounter: (e) => this.recordEncounter(e),
      requestShelter: (r) => this.requestShelter(r),
      lock: () => this.opts.lock(),
      signOut: () => this.opts.signOut(),
    };
    return {
      principal,
      link: this.link,
      clock: this.clock,
      places: places.value,
      orientations: this.orientations,
      people: this.people,
      indicators: this.indicators,
      actions,
      tiles: this.opts.tiles,
    };
  }

  private async declare(v: Counts): Promise<Outcome> {
    if (this.link.value.kind !== "live") return { ok: false, message: OFFLINE };
    const vacancies = Object.entries(v)
      .filter(([, n]) => (n ?? 0) > 0)
      .map(([c, n]) => create(CategoryCountSchema, { category: Number(c), count: n }));
    try {
      await this.conn.declare(vacancies);
      return { ok: true };
    } catch (e) {
      return { ok: false, message: errorMessage(e) };
    }
  }

  private async createPerson(p: NewPerson): Promise<Outcome> {
    const fields: { field: PersonField; value: PersonFieldValue["value"] }[] = [];
    if (p.givenName.trim()) fields.push({ field: PersonField.GIVEN_NAME, value: { case: "text", value: p.givenName.trim() } });
    if (p.familyName.trim()) fields.push({ field: PersonField.FAMILY_NAME, value: { case: "text", value: p.familyName.trim() } });
    if (p.nickname.trim()) fields.push({ field: PersonField.NICKNAME, value: { case: "text", value: p.nickname.trim() } });
    if (p.birthYear) fields.push({ field: PersonField.BIRTH_YEAR, value: { case: "number", value: BigInt(p.birthYear) } });
    if (!fields.length) return { ok: false, message: "Indiquez au moins un prénom, un nom ou un surnom." };
    const stamps = await this.stamps(fields.length);
    const stamped = fields.map((f, i) => ({ ...f, hlc: stamps[i] }));
    return this.push({ case: "person", value: { fields: stamped } });
  }

  private recordEncounter(e: NewEncounter): Promise<Outcome> {
    return this.push({
      case: "encounter",
      value: { personId: e.personId, occurredAtMs: BigInt(this.conn.serverNow()), needs: e.needs, services: e.services, note: e.note.trim() },
    });
  }

  private requestShelter(r: NewRequest): Promise<Outcome> {
    return this.push({ case: "request", value: requestRecord(r) });
  }

  /** The HLC stamps of one local edit's fields (docs/sync.md, clock rule), the clock saved
   * with the account before they are used (a time, nothing personal). */
  private async stamps(n: number): Promise<WireHlc[]> {
    const out: WireHlc[] = [];
    for (let i = 0; i < n; i++) out.push(this.hlc.local(this.conn.serverNow()));
    await accounts.saveHlc(this.opts.account.deviceIdHex, this.hlc.last());
    return out;
  }

  /** Pushes one mutation: its op counter is reserved durably first, and the same op is sent
   * again if the link drops before its answer (the server answers DUPLICATE if it was
   * applied), so an action is applied once whatever the network does. */
  private async push(record: Mutation["record"] | { case: string; value: object }, recordId = newRecordId()): Promise<Outcome> {
    if (this.link.value.kind !== "live") return { ok: false, message: OFFLINE };
    const counter = await accounts.nextOpCounters(this.opts.account.deviceIdHex, 1);
    const m = create(MutationSchema, { opCounter: BigInt(counter), recordId, baseVersion: 0n, record: record as Mutation["record"] });
    for (let attempt = 1; ; attempt++) {
      try {
        const [r] = await this.conn.push([m]);
        if (!r) return { ok: false, message: "Réponse incomplète du serveur." };
        if (r.status === OpStatus.APPLIED || r.status === OpStatus.DUPLICATE) {
          void this.pullAll();
          return { ok: true, id: recordId };
        }
        if (r.status === OpStatus.CONFLICT)
          return { ok: false, message: "Ce dossier a changé entre-temps : rechargez la vue et recommencez." };
        return { ok: false, message: errorMessage({ code: r.code, message: r.reason }) };
      } catch (e) {
        if (!isOffline(e) || attempt >= PUSH_ATTEMPTS || this.closed) return { ok: false, message: errorMessage(e) };
        await this.untilLive();
      }
    }
  }

  private untilLive(): Promise<void> {
    return new Promise((resolve) => {
      if (this.link.value.kind === "live" || this.closed) return resolve();
      const off = this.link.subscribe((s) => {
        if (s.kind !== "connecting" && s.kind !== "offline") {
          off();
          resolve();
        }
      });
    });
  }
}

