// What the maraude phone's end-to-end tests do the same way: the phone's browser settings,
// enrolling and opening the app through its screens, recording an encounter through the
// form, reading what the team's CLI device (libveille) pulls, and reading the protobuf frames
// the phone sends.
import { assert, log } from "./harness.mjs";

/** A phone at 360x640, touch, French, with a position near porte de la Chapelle. */
export const PHONE = {
  viewport: { width: 360, height: 640 },
  hasTouch: true,
  isMobile: true,
  deviceScaleFactor: 2,
  permissions: ["geolocation"],
  geolocation: { latitude: 48.8973, longitude: 2.3597 },
};

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

/** From the enrolment screen: the pairing code, then the PIN twice; resolves on the round's
 *  home, live. */
export async function enrolPhone(page, code, pin) {
  await page.getByLabel("Code d'appairage").fill(code);
  await page.getByRole("button", { name: "Enrôler" }).click();
  await page.getByRole("heading", { name: "Choisissez votre code PIN" }).waitFor({ timeout: 20000 });
  await page.getByLabel("Code PIN", { exact: true }).fill(pin);
  await page.getByLabel("Le même code PIN, encore").fill(pin);
  await page.getByRole("button", { name: "Valider" }).click();
  await page.getByText("En ligne").waitFor({ timeout: 20000 });
}

/** The PIN screen, then the round's home. */
export async function unlock(page, pin) {
  await page.getByRole("heading", { name: "Maraude verrouillée" }).waitFor({ timeout: 20000 });
  await page.getByLabel("Code PIN").fill(pin);
  await page.getByRole("button", { name: "Ouvrir" }).click();
  await page.getByRole("button", { name: "Nouvelle rencontre" }).waitFor({ timeout: 20000 });
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

/**
 * Everything the team's CLI device at dir pulls from the beginning (`veille pull --from 0`),
 * as parsed JSON objects, the newest version of each record only.
 */
export async function pullAll(server, dir) {
  const { stdout } = await server.cli(dir, ["pull", "--from", "0", "--limit", "1000"]);
  const latest = new Map();
  for (const line of stdout.split("\n")) {
    if (!line.trim()) continue;
    const ch = JSON.parse(line);
    const cur = latest.get(ch.record_id);
    if (!cur || cur.version <= ch.version) latest.set(ch.record_id, ch);
  }
  log(`the CLI device pulled ${latest.size} records`);
  return [...latest.values()];
}

/** The encounters among pulled (pullAll) whose note starts with prefix, by note; fails if
 *  two records hold the same note (an encounter doubled). */
export function encountersByNote(pulled, prefix) {
  const byNote = new Map();
  for (const r of pulled) {
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
