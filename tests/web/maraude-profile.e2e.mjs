// The maraude phone's profile edits (issue 13), at 360x640 in a real Chromium against a real
// veilled: Camille's phone opens «Jo» from the person search and, offline, changes their
// nickname and languages; meanwhile a colleague device of the team (the `veille` CLI that
// demo-seed enrolled) renames Jo later. Network back: the server holds the phone's languages
// and the colleague's nickname (merged field by field, docs/sync.md), the phone shows
// "Modifié aussi par un collègue : Surnom = « … » (votre saisie : « … »)" on Jo's screen and
// on its home, still after a reload, until acknowledged; its own edit is nowhere in clear in
// the browser's storage. Then: a profile edit refused by the form (a birth year of 3 digits,
// the bad input) sends nothing; an encounter with a new person leads to that person's screen.
// axe on every screen.
import { join } from "node:path";
import { assert, axeCheck, launchBrowser, log, run, screenshot, seedDemo, startServer, step, trackErrors } from "./harness.mjs";
import { browserStorage } from "./desk.mjs";
import { assertOnlyOfflineErrors, cliPull, enrolPhone, newest, openPerson, phoneContext, unlock } from "./phone.mjs";

const PIN = "246813";
// The test's own personal values, looked for in the browser's storage afterwards.
const MINE = "Jojo-Pangolin";
const THEIRS = "Joe-Ornithorynque";
const LANGUAGES = "français, wolof-Tatou";
const NEW_NICK = "Gédéon-Quokka";

run(async () => {
  const server = await step("start veilled", () => startServer());
  const demo = await step("demo data", () => seedDemo(server));
  const colleague = join(demo.devices, "camille-martin"); // another device of the same team
  const jo = [...newest(await cliPull(server, demo.devices, "camille-martin")).values()].find(
    (c) => c.kind === "person" && c.fields.nickname?.value === "Jo");
  assert.ok(jo, "demo-seed's «Jo»");
  const browser = await launchBrowser();
  const context = await phoneContext(browser);
  const page = await context.newPage();
  const track = trackErrors(page, "maraude");
  await page.goto(`${server.url}maraude/`);
  await step("Camille enrols her phone", () => enrolPhone(page, demo.codes["camille-martin"], PIN));

  await step("Jo's screen, from the person search", async () => {
    await axeCheck(page, "home with the person search button");
    await openPerson(page, "jo", /«\s*Jo\s*»/);
    await page.getByText("Fiche reçue par le serveur").waitFor();
    assert.equal(await page.getByLabel("Surnom").inputValue(), "Jo");
    assert.equal(await page.getByLabel("Année de naissance").inputValue(), "1971");
    assert.equal(await page.getByRole("button", { name: "Avec un animal" }).getAttribute("aria-pressed"), "true");
    await axeCheck(page, "person screen");
    await screenshot(page, "person");
  });

  await step("offline, the phone changes Jo's nickname and languages", async () => {
    // Chromium's offline mode leaves an open WebSocket be: cut, then reload (from the service worker).
    await context.setOffline(true);
    await page.reload();
    await unlock(page, PIN);
    await page.getByText(/^Hors ligne/).waitFor({ timeout: 20000 });
    await openPerson(page, "jo", /«\s*Jo\s*»/);
    await page.getByLabel("Surnom").fill(MINE);
    await page.getByLabel("Langues parlées").fill(LANGUAGES);
    await page.getByRole("button", { name: "Enregistrer la fiche" }).click();
    await page.getByText("Fiche enregistrée sur le téléphone.").waitFor();
    await page.getByText("Modifications enregistrées sur le téléphone, en attente d'envoi").waitFor();
    await axeCheck(page, "person screen, edit waiting");
    await screenshot(page, "person-edit-waiting");
  });

  await step("meanwhile, a colleague device renames Jo (later)", async () => {
    const r = await server.cli(colleague, ["person", "set", "--person", jo.record_id, "--nickname", THEIRS, "--sync"]);
    assert.match(r.stdout, /applied/);
  });

  await step("network back: the colleague's later nickname is shown beside the phone's, not dropped in silence", async () => {
    await context.setOffline(false);
    const notice = page.getByText(`Modifié aussi par un collègue : Surnom = «\u00a0${THEIRS}\u00a0» (votre saisie : «\u00a0${MINE}\u00a0»)`);
    await notice.waitFor({ timeout: 30000 });
    await page.getByText("Fiche reçue par le serveur").waitFor({ timeout: 20000 });
    assert.equal(await page.getByLabel("Surnom").inputValue(), THEIRS, "the form shows the merged profile");
    await axeCheck(page, "person screen with a colleague's value");
    await page.evaluate(() => window.scrollTo(0, 0));
    await screenshot(page, "person-notice");
    // The server merged field by field: the colleague's nickname, the phone's languages.
    await server.cli(colleague, ["sync"]);
    const { stdout } = await server.cli(colleague, ["person", "show", jo.record_id]);
    const shown = JSON.parse(stdout);
    assert.equal(shown.fields.nickname.value, THEIRS);
    assert.equal(shown.fields.languages.value, LANGUAGES);
    assert.equal(shown.fields.birth_year.value, 1971, "a field neither touched is kept");
    log("the server holds the colleague's nickname and the phone's languages");
  });

  await step("the notice stays (home and Jo's screen) after a reload, until acknowledged; nothing in clear", async () => {
    await page.reload();
    await unlock(page, PIN);
    await page.getByRole("heading", { name: "Fiches modifiées aussi par un collègue" }).waitFor({ timeout: 20000 });
    await axeCheck(page, "home with a profile to check");
    await screenshot(page, "home-notice");
    const storage = await browserStorage(page);
    for (const s of [MINE, THEIRS, LANGUAGES]) assert.ok(!storage.includes(s), `"${s}" in clear in the browser's storage`);
    await page.getByRole("button", { name: new RegExp(THEIRS) }).click();
    await page.getByText(/^Modifié aussi par un collègue : Surnom/).waitFor();
    await page.getByRole("button", { name: "J'ai vu" }).click();
    await page.getByRole("heading", { name: "À vérifier" }).waitFor({ state: "detached" });
    await page.getByRole("button", { name: "Retour", exact: true }).click();
    await page.getByRole("heading", { name: "Fiches modifiées aussi par un collègue" }).waitFor({ state: "detached" });
  });

  await step("a birth year of 3 digits (bad input) is refused by the form: nothing saved", async () => {
    await openPerson(page, THEIRS.slice(0, 5), new RegExp(THEIRS));
    await page.getByLabel("Année de naissance").fill("197");
    await page.getByRole("button", { name: "Enregistrer la fiche" }).click();
    await page.getByText(/Année de naissance : un nombre de 1900 à \d{4}\./).waitFor();
    assert.equal(await page.getByLabel("Année de naissance").getAttribute("aria-invalid"), "true");
    await page.getByText("Fiche reçue par le serveur").waitFor();
    await axeCheck(page, "profile form with an error");
    await page.getByRole("button", { name: "Retour", exact: true }).click();
    await page.getByRole("button", { name: "Retour", exact: true }).click();
  });

  await step("after an encounter with a new person, their screen is one tap away", async () => {
    await page.getByRole("button", { name: "Nouvelle rencontre" }).click();
    await page.getByRole("button", { name: "Nouvelle personne" }).click();
    await page.getByLabel("Surnom").fill(NEW_NICK);
    await page.getByRole("button", { name: "Boisson chaude" }).click();
    await page.getByRole("button", { name: "Enregistrer la rencontre" }).click();
    await page.getByText("Rencontre enregistrée sur le téléphone.").waitFor();
    await page.getByRole("button", { name: `Fiche de «\u00a0${NEW_NICK}\u00a0»` }).click();
    await page.getByRole("heading", { level: 1, name: new RegExp(NEW_NICK) }).waitFor();
    await page.getByText("Dernières rencontres").waitFor();
    await page.getByText("Fiche reçue par le serveur").waitFor({ timeout: 20000 });
    await screenshot(page, "person-after-encounter");
  });

  assertOnlyOfflineErrors(track);
});
