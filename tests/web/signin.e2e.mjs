// Browsers as devices (issue 12, "Shared terminals and browser devices"): a day-centre
// terminal enrols with a pairing code and a PIN, signs out and in again; a second
// professional enrols in the same browser; five wrong PINs erase that one's wrapped key and
// only that one; the session locks after the inactivity delay (set to 3 s here) and on the
// button; after sign-out, no storage of the browser (every IndexedDB database, localStorage,
// sessionStorage, Cache Storage) holds a personal value the test wrote, and the server asked
// for Clear-Site-Data.
import { assert, axeCheck, launchBrowser, log, newContext, run, screenshot, seedDemo, startServer, step,
  trackErrors, waitFor } from "./harness.mjs";
import { browserStorage, enrol, signIn, signOut } from "./desk.mjs";

const LOCK_SECONDS = 3;
// The test's own personal values: typed into the terminal, then looked for everywhere.
const NICKNAME = "Zéphyrin-Quokka";
const FAMILY = "Vandersteen-Test";
const NOTE = "Note privée Ornithorynque 4417";

run(async () => {
  const server = await step("start veilled", () => startServer({ lockSeconds: LOCK_SECONDS }));
  const demo = await step("demo data", () => seedDemo(server));
  const browser = await launchBrowser();
  const context = await newContext(browser);
  const page = await context.newPage();
  const track = trackErrors(page, "terminal");
  const accueillant = demo.byRole.accueillant[0];
  const maraudeur = demo.byRole.maraudeur[0];

  await page.goto(server.url);
  await step("enrol the accueillante with her pairing code, choose a PIN", async () => {
    await axeCheck(page, "enrolment");
    await enrol(page, demo.codes[accueillant], "246810");
    await screenshot(page, "terminal-desk");
  });

  await step("record a person and a visit at the terminal", async () => {
    await page.getByRole("button", { name: "Nouvelle personne" }).click();
    await page.getByRole("textbox", { name: "Surnom", exact: true }).fill(NICKNAME);
    await page.getByRole("textbox", { name: "Nom", exact: true }).fill(FAMILY);
    await page.getByRole("button", { name: "Créer la fiche" }).click();
    await page.getByText(NICKNAME).first().waitFor();
    await page.getByLabel(/Note de l'équipe/).fill(NOTE);
    await page.getByRole("button", { name: /Enregistrer le passage/ }).click();
    await page.getByText(/Passage enregistré/).waitFor();
  });
  await step("find a person the centre knows, ask the SIAO for a shelter for them", async () => {
    await page.getByRole("searchbox", { name: /Nom, prénom, surnom/ }).fill("karimi");
    await page.getByRole("list", { name: "Personnes trouvées" }).getByRole("button", { name: /Karimi/ }).click();
    await page.evaluate(() => window.scrollTo(0, 0));
    await screenshot(page, "terminal-person");
    await page.getByRole("tab", { name: "Demander un hébergement" }).click();
    await page.getByRole("radio", { name: /dans les jours/i }).check();
    await page.getByRole("checkbox", { name: "Jeune 18-25 ans" }).check();
    await page.getByRole("button", { name: "Envoyer la demande au SIAO" }).click();
    await page.getByText(/Demande envoyée au SIAO/).waitFor();
    await axeCheck(page, "day-centre terminal, a person open");
    await screenshot(page, "terminal-request");
  });
  const title = await page.title();
  assert.ok(!title.includes(NICKNAME) && !page.url().includes(NICKNAME), "nothing personal in the title or the URL");

  await step("sign out, then sign in again with the PIN", async () => {
    const cleared = page.waitForResponse((r) => new URL(r.url()).pathname === "/signout");
    await signOut(page);
    const r = await cleared;
    assert.equal((await r.allHeaders())["clear-site-data"], '"cache"', "Clear-Site-Data on /signout");
    const storage = await browserStorage(page);
    for (const s of [NICKNAME, FAMILY, NOTE]) assert.ok(!storage.includes(s), `"${s}" left in the browser's storage`);
    log(`browser storage after sign-out: ${storage.length} characters, none of the test's values`);
    await axeCheck(page, "list of the professionals enrolled here");
    await signIn(page, "Léa", "246810");
  });

  await step("a second professional enrols in the same browser", async () => {
    await signOut(page);
    await page.getByRole("button", { name: /Enrôler un nouveau professionnel/ }).click();
    await enrol(page, demo.codes[maraudeur], "135790");
    await signOut(page);
    await page.getByRole("button", { name: /Léa/ }).waitFor();
    await page.getByRole("button", { name: /Camille/ }).waitFor();
  });

  await step("five wrong PINs erase the second professional's key, not the first's", async () => {
    await page.getByRole("button", { name: /Camille/ }).click();
    for (let i = 1; i <= 5; i++) {
      await page.getByLabel("Code PIN").fill("000000");
      await page.getByRole("button", { name: "Ouvrir la session" }).click();
      if (i < 5) await page.getByText(`Il reste ${5 - i} essai`).first().waitFor();
    }
    await page.getByText(/a été effacée de ce navigateur/).waitFor();
    await screenshot(page, "pin-erased");
    assert.equal(await page.getByRole("button", { name: /Camille/ }).count(), 0, "the erased account is gone");
    await signIn(page, "Léa", "246810");
  });

  await step(`the session locks after ${LOCK_SECONDS} s without activity`, async () => {
    const t0 = Date.now();
    await page.getByRole("heading", { name: "Session verrouillée" }).waitFor({ timeout: (LOCK_SECONDS + 5) * 1000 });
    log(`locked after ${Date.now() - t0} ms of inactivity`);
    assert.equal(await page.getByText(NICKNAME).count(), 0, "nothing personal on the lock screen");
    await axeCheck(page, "lock screen");
    await screenshot(page, "locked");
  });

  await step("unlock, then the lock button", async () => {
    await page.getByLabel("Code PIN").fill("246810");
    await page.getByRole("button", { name: "Déverrouiller" }).click();
    await page.getByRole("button", { name: "Verrouiller" }).click();
    await page.getByRole("heading", { name: "Session verrouillée" }).waitFor();
  });

  const storage = await browserStorage(page);
  for (const s of [NICKNAME, FAMILY, NOTE]) assert.ok(!storage.includes(s), `"${s}" left in the browser's storage`);
  await waitFor(() => true);
  track.assertNone("terminal");
});
