// Interop with libveille (issue 13): a maraude phone (the web app, in a real Chromium) and a
// colleague's device of the same team running the C client (the `veille` CLI) edit the same
// person's profile while both are offline — the CLI first (nickname, languages), then the
// phone (nickname, situation, birth year, household), then the CLI again (situation, given
// name cleared, animal) — then both sync, the CLI first. The expected profile is computed here from the
// stamps each side used (the phone's read from the PushRequest frame it sent, the CLI's from
// its own `person show` before it synced), with docs/sync.md's rule written again
// (foldProfiles): the greater stamp wins, field by field. The server, the CLI device and the
// phone all end with it: the CLI's profile value for value and stamp for stamp, the phone's
// as its person screen shows it, with the colleague's later situation, which the server had
// when the phone's came, noticed beside the phone's own.
import { join } from "node:path";
import { assert, launchBrowser, log, run, screenshot, seedDemo, sleep, startServer, step, trackErrors,
  waitFor } from "./harness.mjs";
import { cliPull, editProfile, enrolPhone, foldProfiles, newest, openPerson, phoneContext, phoneDeviceId,
  pushedProfileEdits, unlock } from "./phone.mjs";

const PIN = "531642";
const PHONE_PRO = "yanis-benali";
const COLLEAGUE = "camille-martin";
const NICK = "Casoar-Commun";
// Between two edits: more than the phone's estimate of the server's clock may be off by.
const GAP_MS = 1000;

/* A profile as `veille person show` prints it, or as pushedProfileEdits reads it: each field's
   value and stamp only (a cleared field: value null). */
const stamped = (fields) => Object.fromEntries(Object.entries(fields).map(([f, { value, wall_ms, counter, device_id }]) =>
  [f, { value, wall_ms, counter, device_id }]));

run(async () => {
  const server = await step("start veilled", () => startServer());
  const demo = await step("demo data", () => seedDemo(server));
  const cliDir = join(demo.devices, COLLEAGUE);
  const cli = async (...args) => (await server.cli(cliDir, args)).stdout;
  const show = async (id) => JSON.parse(await cli("person", "show", id));
  const cliDevice = /device_id=([0-9a-f]{32})/.exec(await cli("status"))[1];

  const made = await cli("person", "set", "--new-person", "--nickname", NICK, "--given-name", "Anatole-Interop",
    "--birth-year", "1975", "--languages", "français", "--situation", "Situation de départ", "--sync");
  const personId = /person_id=(\S+)/.exec(made)[1];
  const base = stamped((await show(personId)).fields);

  const browser = await launchBrowser();
  const context = await phoneContext(browser);
  const page = await context.newPage();
  trackErrors(page, "phone");
  await page.goto(`${server.url}maraude/`);
  await step(`${PHONE_PRO}'s phone enrols and pulls the colleague's person`, async () => {
    await enrolPhone(page, demo.codes[PHONE_PRO], PIN);
    await openPerson(page, "casoar", new RegExp(NICK));
    assert.equal(await page.getByLabel("Situation").inputValue(), "Situation de départ");
  });
  const phoneDevice = await phoneDeviceId(page);

  let cliEdits;
  await step("both offline, the CLI, the phone, then the CLI again edit the person", async () => {
    await context.setOffline(true);
    await page.reload(); // Chromium's offline mode leaves an open WebSocket be
    await unlock(page, PIN);
    await page.getByText(/^Hors ligne/).waitFor({ timeout: 20000 });
    await cli("person", "set", "--person", personId, "--nickname", "Casoar-CLI", "--languages", "arabe, français", "--no-sync");
    await sleep(GAP_MS);
    await editProfile(page, "casoar", new RegExp(NICK), {
      Surnom: "Casoar-Téléphone", Situation: "Situation vue du téléphone", "Année de naissance": "1976", "Adultes du ménage": "2",
    });
    await sleep(GAP_MS);
    await cli("person", "set", "--person", personId, "--situation", "Situation vue par la CLI", "--clear", "given_name",
      "--animal", "yes", "--no-sync");
    const local = await show(personId);
    assert.equal(local.pending_ops, 2);
    cliEdits = Object.fromEntries(Object.entries(stamped(local.fields))
      .filter(([f, v]) => JSON.stringify(v) !== JSON.stringify(base[f])));
    assert.deepEqual(Object.keys(cliEdits).sort(), ["animal", "given_name", "languages", "nickname", "situation"]);
  });

  let expected;
  await step("both sync; the profile each ends with is docs/sync.md's fold of the stamps each used", async () => {
    await cli("sync");
    const pushed = [];
    page.on("websocket", (ws) => ws.on("framesent", ({ payload }) => {
      if (typeof payload !== "string") pushed.push(...pushedProfileEdits(payload).filter((e) => e.personId === personId));
    }));
    await context.setOffline(false);
    await page.getByText("Tout est reçu par le serveur").waitFor({ timeout: 30000 });
    assert.equal(pushed.length, 1, "the phone pushed its one profile edit");
    const phoneEdits = pushed[0].fields;
    assert.deepEqual(Object.keys(phoneEdits).sort(), ["birth_year", "household_adults", "nickname", "situation"]);
    await cli("sync"); // the phone's edit

    expected = foldProfiles(base, cliEdits, phoneEdits);
    // The edits were made in that order, a second apart: each device wins somewhere.
    assert.equal(expected.nickname.device_id, phoneDevice, "the phone's nickname came after the CLI's");
    assert.equal(expected.situation.device_id, cliDevice, "the CLI's situation came after the phone's");
    log(`expected: ${Object.entries(expected).map(([f, v]) => `${f}=${JSON.stringify(v.value)} (${v.device_id === phoneDevice ? "phone" : "CLI"})`).join(", ")}`);

    const onCli = await show(personId);
    assert.equal(onCli.pending_ops, 0);
    assert.deepEqual(stamped(onCli.fields), expected, "the CLI device's profile");
    const onServer = newest(await cliPull(server, demo.devices, COLLEAGUE)).get(personId);
    assert.deepEqual(stamped(onServer.fields), expected, "the server's profile");
  });

  await step("the phone shows the same profile, and the colleague's later situation beside its own", async () => {
    await openPerson(page, "casoar", new RegExp(expected.nickname.value));
    const label = { nickname: "Surnom", given_name: "Prénom", birth_year: "Année de naissance", languages: "Langues parlées",
      situation: "Situation", household_adults: "Adultes du ménage" };
    const form = async () => {
      const out = {};
      for (const [f, l] of Object.entries(label)) out[f] = await page.getByLabel(l, { exact: true }).inputValue();
      out.animal = (await page.getByRole("button", { name: "Avec un animal" }).getAttribute("aria-pressed")) === "true";
      return out;
    };
    const want = Object.fromEntries(Object.keys(label).map((f) => [f, expected[f].value === null ? "" : String(expected[f].value)]));
    want.animal = expected.animal.value;
    await waitFor(async () => JSON.stringify(await form()) === JSON.stringify(want), { timeout: 20000, what: "the phone's profile" })
      .catch(async (e) => assert.deepEqual(await form(), want, e.message));
    await page.getByText("Fiche reçue par le serveur").waitFor();
    await page.getByText("Modifié aussi par un collègue : Situation = «\u00a0Situation vue par la CLI\u00a0» (votre saisie : «\u00a0Situation vue du téléphone\u00a0»)").waitFor();
    await screenshot(page, "interop-person");
    log("the phone, the CLI device and the server hold the same profile");
  });
});
