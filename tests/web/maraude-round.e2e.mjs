// A long round offline (issue 13): the maraude phone, at 360x640 in a real Chromium against a
// real veilled, records 200 encounters about 10 persons and 20 changes of their profiles
// through its screens with the network off the whole time; meanwhile the page is reloaded
// twice and the browser process is killed once (SIGKILL, then launched again on the same
// profile: IndexedDB and the service worker survive). Each time the app opens again from its
// service worker with every record still waiting. The network back, everything reaches the
// server exactly once: a colleague's CLI device of the same maraude team (libveille) pulls
// the 10 persons, each with every field the phone set, stamped by the phone, and the 200
// encounters, each once, field by field as typed. Then every IndexedDB database, store and value, the
// Cache Storage and localStorage of the phone hold none of the test's personal strings in
// clear.
import { join } from "node:path";
import { assert, launchPersistent, log, run, seedDemo, startServer, step, trackErrors } from "./harness.mjs";
import { browserStorage } from "./desk.mjs";
import { cliPull, editProfile, encountersByNote, enrolPhone, NEEDS, newest, PHONE, phoneDeviceId, recordEncounter,
  SERVICES, unlock, waitingCount } from "./phone.mjs";

const PIN = "864213";
const TEAM = "maraude-75-nord";
const PHONE_PRO = "yanis-benali"; // the phone's maraudeur
const COLLEAGUE = "camille-martin"; // her CLI device (tools/demo-seed), same team
const ENCOUNTERS = 200;
// The test's personal values: the persons' nicknames and one note per encounter.
const NICKS = ["Quetzal", "Ornithorynque", "Pangolin", "Axolotl", "Tatou", "Okapi", "Fennec", "Narval",
  "Wombat", "Casoar"].map((w) => `${w}-Tournée`);
const note = (i) => `Note de tournée n°${i} chez ${NICKS[i % NICKS.length]}`;
// Encounter i: person i % 10 (new the first time), one need and one service, varied.
const plan = (i) => ({ nick: NICKS[i % NICKS.length], need: NEEDS[i % NEEDS.length], service: SERVICES[i % SERVICES.length] });
// Profile change c, after every tenth encounter, about person c % 10: the first ten set a
// given name, a birth year and languages, the next ten the situation, the household and
// (every other one) the animal. { field as `veille` names it: [label in the form, value] }.
const CHANGES = 20;
const change = (c) => {
  const k = c % NICKS.length;
  return c < NICKS.length
    ? { given_name: ["Prénom", `Prénom${k}-Tournée`], birth_year: ["Année de naissance", 1950 + k],
      languages: ["Langues parlées", `langue-${k}-tournée`] }
    : { situation: ["Situation", `Situation de tournée ${k}`], household_adults: ["Adultes du ménage", 1 + (k % 3)],
      ...(k % 2 ? {} : { animal: ["Avec un animal", true] }) };
};
// The round in segments: encounters up to `to`, then what happens to the phone.
const SEGMENTS = [[60, "reload"], [120, "kill"], [170, "reload"], [ENCOUNTERS, null]];

run(async () => {
  const server = await step("start veilled", () => startServer());
  const demo = await step("demo data", () => seedDemo(server));
  const profile = join(server.dir, "phone-profile"); // the phone's browser profile, kept across the kill
  const t0 = Date.now();
  let phone = await launchPersistent(profile, PHONE);
  let page = phone.context.pages()[0] ?? (await phone.context.newPage());
  trackErrors(page, "phone");
  const app = `${server.url}maraude/`;
  let deviceId;

  await step(`enrol ${PHONE_PRO}'s phone, then cut the network and open the app offline`, async () => {
    await page.goto(app);
    await page.evaluate(async () => navigator.serviceWorker.ready);
    await enrolPhone(page, demo.codes[PHONE_PRO], PIN);
    deviceId = await phoneDeviceId(page);
    await phone.context.setOffline(true);
    assert.ok((await page.reload()).fromServiceWorker(), "the app opens from its service worker");
    await unlock(page, PIN);
    await page.getByText(/^Hors ligne/).waitFor({ timeout: 20000 });
  });

  /* What waits after n encounters, counted by record as the phone counts it: the encounters
   * (one with the person it made counts once) and the profile changes. */
  const waiting = (n) => n + Math.floor(n / 10);
  let from = 0;
  for (const [to, then] of SEGMENTS) {
    await step(`encounters ${from + 1} to ${to}, a profile change every ten, recorded offline`, async () => {
      for (let i = from; i < to; i++) {
        const p = plan(i);
        const who = i < NICKS.length ? { nickname: p.nick } : { search: p.nick.slice(0, 6), pick: new RegExp(p.nick) };
        await recordEncounter(page, who, { needs: [p.need[0]], services: [p.service[0]], note: note(i) });
        if ((i + 1) % 10) continue;
        const c = (i + 1) / 10 - 1;
        const nick = NICKS[c % NICKS.length];
        const form = Object.values(change(c)).map(([label, v]) => [label, typeof v === "number" ? String(v) : v]);
        await editProfile(page, nick.slice(0, 6), new RegExp(nick), Object.fromEntries(form));
      }
      assert.equal(await waitingCount(page), waiting(to));
    });
    from = to;
    if (then === "reload") {
      await step(`page reloaded offline after ${to} encounters: they all still wait`, async () => {
        assert.ok((await page.reload()).fromServiceWorker());
        await unlock(page, PIN);
        assert.equal(await waitingCount(page), waiting(to));
      });
    } else if (then === "kill") {
      await step(`browser killed after ${to} encounters, launched again offline: they all still wait`, async () => {
        await phone.kill();
        phone = await launchPersistent(profile, { ...PHONE, offline: true });
        page = phone.context.pages()[0] ?? (await phone.context.newPage());
        trackErrors(page, "phone after the kill");
        assert.ok((await page.goto(app)).fromServiceWorker());
        await unlock(page, PIN);
        assert.equal(await waitingCount(page), waiting(to));
      });
    }
  }

  await step("network back: the phone sends everything", async () => {
    await phone.context.setOffline(false);
    await page.getByText("Tout est reçu par le serveur").waitFor({ timeout: 120000 });
    assert.equal(await page.locator(".state--rejected").count(), 0, "nothing refused");
  });

  await step("the colleague's CLI device pulls each person and each encounter once, as typed", async () => {
    const pulled = await cliPull(server, demo.devices, COLLEAGUE);
    const persons = new Map(); // nickname -> person id
    for (const r of newest(pulled).values()) {
      const k = NICKS.indexOf(r.kind === "person" ? r.fields.nickname?.value : undefined);
      if (k < 0) continue;
      const nick = NICKS[k];
      assert.ok(!persons.has(nick), `person "${nick}" pulled twice`);
      assert.equal(r.team_id, TEAM);
      assert.equal(r.version, 3, `${nick}: made, then changed twice`);
      const want = { nickname: nick, ...Object.fromEntries(Object.entries({ ...change(k), ...change(k + 10) }).map(([f, [, v]]) => [f, v])) };
      const got = Object.fromEntries(Object.entries(r.fields).map(([f, v]) => [f, v.value]));
      assert.deepEqual(got, want, `${nick}: the profile`);
      for (const [f, v] of Object.entries(r.fields)) assert.equal(v.device_id, deviceId, `${nick}: ${f} stamped by the phone`);
      persons.set(nick, r.record_id);
    }
    assert.equal(persons.size, NICKS.length, "every person");
    const byNote = encountersByNote(pulled, "Note de tournée");
    for (let i = 0; i < ENCOUNTERS; i++) {
      const e = byNote.get(note(i));
      assert.ok(e, `"${note(i)}" never reached the server`);
      const p = plan(i);
      assert.equal(e.person_id, persons.get(p.nick), `${note(i)}: the person`);
      assert.equal(e.team_id, TEAM);
      assert.equal(e.author_id, PHONE_PRO);
      assert.deepEqual(e.needs, [p.need[1]], `${note(i)}: needs`);
      assert.deepEqual(e.services, [p.service[1]], `${note(i)}: services`);
      assert.equal(e.version, 1);
      assert.equal(e.geohash, "");
      assert.equal(e.health_note, "");
      assert.ok(e.occurred_at_ms >= t0 - 60000 && e.occurred_at_ms <= Date.now() + 60000, `${note(i)}: when`);
    }
    assert.equal(byNote.size, ENCOUNTERS, "no other encounter of the round");
    log(`${persons.size} persons with their ${CHANGES} changes and ${byNote.size} encounters on the server, each once, as typed`);
  });

  await step("nothing personal in clear in the phone's storage", async () => {
    const storage = await browserStorage(page);
    assert.ok(storage.includes("idb veille-maraude-"), "the phone's store was read");
    const texts = Array.from({ length: CHANGES }, (_, c) => Object.values(change(c)).map(([, v]) => v))
      .flat().filter((v) => typeof v === "string");
    const values = [...NICKS, ...texts, ...Array.from({ length: ENCOUNTERS }, (_, i) => note(i))];
    for (const v of values) assert.ok(!storage.includes(v), `"${v}" in clear in the phone's storage`);
    log(`phone storage: ${storage.length} characters, none of the ${values.length} values`);
  });
});
