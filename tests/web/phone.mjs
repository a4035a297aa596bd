// What the maraude phone's end-to-end tests do the same way: a phone-sized browser (context
// options for launchPersistent, or a context), enrolment and the PIN, the person search, an
// encounter through the form, what a colleague's `veille` CLI device of the team holds, and
// what the phone sends over /sync, read from its protobuf frames without the app's code.
import { join } from "node:path";
import { assert, newContext, waitFor } from "./harness.mjs";

/** A phone: 360x640, touch, French (newContext's or launchPersistent's options). */
export const PHONE = { viewport: { width: 360, height: 640 }, hasTouch: true, isMobile: true, deviceScaleFactor: 2 };

/** A phone's browser context. */
export function phoneContext(browser, extra = {}) {
  return newContext(browser, { ...PHONE, ...extra });
}

/** The needs and services the form offers, as it labels them and as `veille pull` names them. */
export const NEEDS = [
  ["Mise à l'abri, hébergement", "shelter"], ["Alimentation", "food"], ["Hygiène", "hygiene"],
  ["Soins", "health_care"], ["Vêtements", "clothing"], ["Accès aux droits, papiers", "rights_access"],
  ["Lien social", "social_contact"], ["Autre", "other"],
];
export const SERVICES = [
  ["Écoute, échange", "talk"], ["Boisson chaude", "hot_drink"], ["Repas, alimentation", "food"],
  ["Kit d'hygiène", "hygiene_kit"], ["Duvet", "sleeping_bag"], ["Vêtements", "clothing"],
  ["Information, orientation", "information"], ["Appel au 115", "call_115"],
  ["Accompagnement physique", "accompaniment"], ["Soins", "care"], ["Autre", "other"],
];

/** From the enrolment screen (the page at /maraude/): pairing code, a PIN twice; resolves on
 *  the round's home once the first pull reached the end of the feed. */
export async function enrolPhone(page, code, pin) {
  await page.getByLabel("Code d'appairage").fill(code);
  await page.getByRole("button", { name: "Enrôler" }).click();
  await page.getByLabel("Code PIN", { exact: true }).fill(pin);
  await page.getByLabel("Le même code PIN, encore").fill(pin);
  await page.getByRole("button", { name: "Valider" }).click();
  await page.getByText("Tout est reçu par le serveur").waitFor({ timeout: 20000 });
  await waitFor(() => lastSync(page), { timeout: 20000, what: "the first pull" });
}

/** When the phone's last pull reached the end of the feed (its store's meta, plain), 0 for
 *  never. */
export function lastSync(page) {
  return page.evaluate(async () => {
    const name = (await indexedDB.databases()).map((d) => d.name).find((n) => n.startsWith("veille-maraude-"));
    if (!name) return 0;
    const db = await new Promise((ok, ko) => {
      const r = indexedDB.open(name);
      r.onsuccess = () => ok(r.result);
      r.onerror = () => ko(r.error);
    });
    try {
      const meta = await new Promise((ok, ko) => {
        const r = db.transaction("meta").objectStore("meta").get("device");
        r.onsuccess = () => ok(r.result);
        r.onerror = () => ko(r.error);
      });
      return meta?.lastSyncMs ?? 0;
    } finally {
      db.close();
    }
  });
}

/** The PIN screen, then the round's home. */
export async function unlock(page, pin) {
  await page.getByLabel("Code PIN").fill(pin);
  await page.getByRole("button", { name: "Ouvrir" }).click();
  await page.getByRole("button", { name: "Nouvelle rencontre" }).waitFor({ timeout: 20000 });
}

/** From the home: the person search, then the screen of the first person whose button matches. */
export async function openPerson(page, search, name) {
  await page.getByRole("button", { name: "Chercher une personne" }).click();
  await page.getByRole("searchbox", { name: "Chercher une personne" }).fill(search);
  await page.getByRole("button", { name }).first().click();
  await page.getByRole("heading", { level: 1, name }).waitFor();
}

/**
 * From the home: a person's screen (openPerson), fields of their profile set through its form
 * (by label: a text or a number as a string, a flag as a boolean), saved on the phone, back
 * home.
 */
export async function editProfile(page, search, name, values) {
  await openPerson(page, search, name);
  for (const [label, v] of Object.entries(values)) {
    if (typeof v !== "boolean") {
      await page.getByLabel(label, { exact: true }).fill(v);
      continue;
    }
    const flag = page.getByRole("button", { name: label, exact: true });
    if ((await flag.getAttribute("aria-pressed")) !== String(v)) await flag.click();
  }
  await page.getByRole("button", { name: "Enregistrer la fiche" }).click();
  await page.getByText("Fiche enregistrée sur le téléphone.").waitFor();
  await page.getByRole("button", { name: "Retour", exact: true }).click(); // to the search
  await page.getByRole("button", { name: "Retour", exact: true }).click(); // home
}

/**
 * One encounter through the form, from the round's home. who: { nickname } makes a new
 * person; { search, pick } picks a known one (pick: the person's button's accessible name,
 * a string or a RegExp). needs, services: labels as the form shows them.
 */
export async function recordEncounter(page, who, { needs = [], services = [], note = "" }) {
  await page.getByRole("button", { name: "Nouvelle rencontre" }).click();
  if (who.nickname) {
    await page.getByRole("button", { name: "Nouvelle personne" }).click();
    await page.getByLabel("Surnom").fill(who.nickname);
  } else {
    await page.getByRole("searchbox", { name: "Qui rencontrez-vous ?" }).fill(who.search);
    await page.getByRole("button", { name: who.pick }).first().click();
  }
  const needGroup = page.getByRole("group", { name: "Besoins exprimés" });
  for (const n of needs) await needGroup.getByRole("button", { name: n, exact: true }).click();
  const serviceGroup = page.getByRole("group", { name: "Ce que la maraude a apporté" });
  for (const s of services) await serviceGroup.getByRole("button", { name: s, exact: true }).click();
  if (note) await page.getByLabel(/Note de l'équipe/).fill(note);
  await page.getByRole("button", { name: "Enregistrer la rencontre" }).click();
  await page.getByText("Rencontre enregistrée sur le téléphone.").waitFor();
}

/** The waiting count the home shows ("N en attente d'envoi", 0 for "Tout est reçu"). */
export async function waitingCount(page) {
  const state = page.locator("main .state--wait, main .state--ok").first();
  await state.waitFor();
  const m = /(\d+) en attente d'envoi/.exec(await state.innerText());
  return m ? Number(m[1]) : 0;
}

/** Every change the CLI device `dev` (a directory under demo.devices) pulls from the start, as
 *  parsed JSON lines (`veille pull`). */
export async function cliPull(server, devices, dev) {
  const { stdout } = await server.cli(join(devices, dev), ["pull", "--from", "0", "--limit", "1000"]);
  return stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l));
}

/** The newest version of each record among changes, by record id. */
export function newest(changes) {
  const out = new Map();
  for (const c of changes) if (!out.has(c.record_id) || out.get(c.record_id).version <= c.version) out.set(c.record_id, c);
  return out;
}

/** Fails if the page had errors other than those of being offline, expected here: the /sync
 *  socket and the requests (/config.js, an image cut by a reload) the cut network fails. */
export function assertOnlyOfflineErrors(track) {
  const unexpected = track.errors.filter((e) => !/net::ERR_|WebSocket|config\.js/.test(e));
  assert.deepEqual(unexpected, [], `errors in the page:\n${unexpected.join("\n")}`);
}

/** The encounters among changes (cliPull) whose note starts with prefix, by note, newest
 *  version; fails if two records hold the same note (an encounter doubled). */
export function encountersByNote(changes, prefix) {
  const byNote = new Map();
  for (const r of newest(changes).values()) {
    if (r.kind !== "encounter" || !r.note.startsWith(prefix)) continue;
    assert.ok(!byNote.has(r.note), `"${r.note}" pulled twice: an encounter doubled`);
    byNote.set(r.note, r);
  }
  return byNote;
}

/** The device id (32 hex) of the phone's account in the page's origin (its store's name). */
export async function phoneDeviceId(page) {
  const names = await page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name));
  const ids = names.map((n) => /^veille-maraude-([0-9a-f]{32})$/.exec(n)?.[1]).filter(Boolean);
  assert.equal(ids.length, 1, `one phone store in ${names.join(", ")}`);
  return ids[0];
}

/* ---- protobuf, read by hand: the test checks what the phone sends without the app's code ---- */

function varint(buf, at) {
  let v = 0n;
  for (let shift = 0n; ; shift += 7n) {
    if (at >= buf.length) throw new Error("protobuf: truncated varint");
    const b = buf[at++];
    v |= BigInt(b & 0x7f) << shift;
    if (!(b & 0x80)) return [v, at];
  }
}

/** The fields of one protobuf message: [{ no, value }], value a BigInt (varint) or a Buffer
 *  (length-delimited); fixed-width fields are skipped (none of the messages read has one). */
export function protoFields(buf) {
  const out = [];
  for (let at = 0; at < buf.length; ) {
    let key;
    [key, at] = varint(buf, at);
    const no = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (wire === 0) {
      let v;
      [v, at] = varint(buf, at);
      out.push({ no, value: v });
    } else if (wire === 2) {
      let len;
      [len, at] = varint(buf, at);
      out.push({ no, value: buf.subarray(at, at + Number(len)) });
      at += Number(len);
    } else if (wire === 1 || wire === 5) {
      at += wire === 1 ? 8 : 4;
    } else {
      throw new Error(`protobuf: wire type ${wire}`);
    }
  }
  return out;
}

/** The field no of a message (the first one), or undefined. */
export const protoField = (buf, no) => protoFields(buf).find((f) => f.no === no)?.value;

/** Envelope's oneof cases the tests watch (proto/veille/v1/envelope.proto). */
export const ENVELOPE = { push: 20, pushResult: 21 };

/** The ops of a PushRequest frame (Envelope.push = 20; PushRequest.mutations = 1), each as
 *  its fields; [] for another message. */
export function pushedOps(frame) {
  const push = protoField(Buffer.from(frame), ENVELOPE.push);
  return push ? protoFields(push).filter((f) => f.no === 1).map((f) => f.value) : [];
}

/** PersonField numbers (proto/veille/v1/records.proto) by the names `veille` prints. */
const PERSON_FIELDS = [, "given_name", "family_name", "nickname", "birth_year", "household_adults",
  "household_children", "reduced_mobility", "animal", "situation", "languages", "objects_to_sharing"];

/**
 * The profile edits among a PushRequest frame's ops (Mutation.person = 11): [{ personId,
 * fields: { name: { value, wall_ms, counter, device_id } } }], as `veille person show`
 * prints a profile (value null for a cleared field).
 */
export function pushedProfileEdits(frame) {
  const edits = [];
  for (const op of pushedOps(frame)) {
    const person = protoField(op, 11);
    if (!person) continue;
    const fields = {};
    for (const { no, value } of protoFields(person)) {
      if (no !== 1) continue;
      const f = Object.fromEntries(protoFields(value).map((x) => [x.no, x.value]));
      const hlc = Object.fromEntries(protoFields(f[2] ?? Buffer.alloc(0)).map((x) => [x.no, x.value]));
      fields[PERSON_FIELDS[Number(f[1])]] = {
        value: f[6] ? null /* cleared */
          : f[3] !== undefined ? f[3].toString("utf8")
          : f[4] !== undefined ? Number(BigInt.asIntN(64, f[4]))
          : f[5] === 1n,
        wall_ms: Number(hlc[1] ?? 0n),
        counter: Number(hlc[2] ?? 0n),
        device_id: Buffer.from(hlc[3] ?? []).toString("hex"),
      };
    }
    edits.push({ personId: protoField(op, 2).toString("utf8"), fields });
  }
  return edits;
}

/** docs/sync.md's order of stamps: wall_ms, then counter, then device_id bytewise (the same
 *  order as equal-length lower-case hex). */
export function compareStamps(a, b) {
  return a.wall_ms - b.wall_ms || a.counter - b.counter || (a.device_id < b.device_id ? -1 : a.device_id > b.device_id ? 1 : 0);
}

/** docs/sync.md's merge of profiles ({ name: value with stamp }), field by field: the greater
 *  stamp wins, whatever the order. */
export function foldProfiles(...profiles) {
  const out = {};
  for (const p of profiles) {
    for (const [name, v] of Object.entries(p)) if (!out[name] || compareStamps(v, out[name]) > 0) out[name] = v;
  }
  return out;
}
