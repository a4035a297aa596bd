// The health note (issue 13), at 360x640 in a real Chromium against a real veilled: the
// maraude's health professional (added with veillectl) records an encounter with «Jo» with a
// health note, which her phone shows back on Jo's screen; Camille, a maraudeur of the same
// team, sees the encounter and its team note on her phone but neither the health note nor a
// field to write one. axe on each screen.
import { assert, axeCheck, launchBrowser, run, screenshot, seedDemo, startServer, step, trackErrors } from "./harness.mjs";
import { enrolPhone, openPerson, phoneContext } from "./phone.mjs";

const PIN = "864209";
const TEAM_NOTE = "Note d'équipe Fennec 3321";
const HEALTH_NOTE = "Tension 15/9 Okapi 7741";

run(async () => {
  const server = await step("start veilled", () => startServer());
  const demo = await step("demo data", () => seedDemo(server));
  const out = server.ctl(["professional", "add", "--id", "salome-bernard", "--structure", "maraude-75-nord",
    "--role", "professionnel_sante", "--name", "Salomé Bernard"]);
  const code = /pairing_code=(\S+)/.exec(out)?.[1];
  assert.ok(code, `no pairing code: ${out}`);
  const browser = await launchBrowser();

  await step("the health professional records an encounter with a health note, and reads it back", async () => {
    const context = await phoneContext(browser);
    const page = await context.newPage();
    const track = trackErrors(page, "health professional");
    await page.goto(`${server.url}maraude/`);
    await enrolPhone(page, code, PIN);
    await page.getByRole("button", { name: "Nouvelle rencontre" }).click();
    await page.getByRole("searchbox", { name: "Qui rencontrez-vous ?" }).fill("jo");
    await page.getByRole("button", { name: /«\s*Jo\s*»/ }).first().click();
    await page.getByLabel(/Note de l'équipe/).fill(TEAM_NOTE);
    await page.getByLabel(/Note de santé/).fill(HEALTH_NOTE);
    await axeCheck(page, "encounter form of a health professional");
    await screenshot(page, "health-form");
    await page.getByRole("button", { name: "Enregistrer la rencontre" }).click();
    await page.getByText("Tout est reçu par le serveur").waitFor({ timeout: 20000 });
    await page.getByRole("button", { name: /Fiche de «\s*Jo\s*»/ }).click();
    await page.getByText(`Santé : ${HEALTH_NOTE}`).waitFor();
    await axeCheck(page, "person screen with a health note");
    await screenshot(page, "health-person");
    track.assertNone();
    await context.close();
  });

  await step("a maraudeur of the same team sees the encounter, not its health note, and has no field for one", async () => {
    const context = await phoneContext(browser);
    const page = await context.newPage();
    const track = trackErrors(page, "maraudeur");
    await page.goto(`${server.url}maraude/`);
    await enrolPhone(page, demo.codes["camille-martin"], PIN);
    await openPerson(page, "jo", /«\s*Jo\s*»/);
    await page.getByText(TEAM_NOTE).waitFor();
    assert.ok(!(await page.content()).includes(HEALTH_NOTE), "the health note is on the maraudeur's page");
    assert.equal(await page.getByText(/^Santé :/).count(), 0);
    await page.getByRole("button", { name: "Nouvelle rencontre avec cette personne" }).click();
    await page.getByLabel(/Note de l'équipe/).waitFor();
    assert.equal(await page.getByLabel(/Note de santé/).count(), 0, "no health note field for a maraudeur");
    await axeCheck(page, "encounter form of a maraudeur");
    track.assertNone();
    await context.close();
  });
});
