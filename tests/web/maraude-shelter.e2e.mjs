// The maraude phone asks for shelter (issue 13), at 360x640 in a real Chromium against a real
// veilled: offline, Camille meets a new person and asks the SIAO for a place for them (the
// desk's form; sent empty first, the bad input, it names what is missing); the request waits
// on the phone, then reaches the server when the network is back. The SIAO coordinator (her
// `veille` CLI) proposes CHU La Chapelle: the phone shows the proposal live; the centre (its
// CLI) refuses with a motive: the phone shows the refusal and its motive; a second proposal,
// to CHRS Les Tilleuls, is admitted: the phone shows the admission and its dates. axe on each
// screen.
import { join } from "node:path";
import { assert, axeCheck, launchBrowser, log, run, screenshot, seedDemo, startServer, step, trackErrors } from "./harness.mjs";
import { assertOnlyOfflineErrors, cliPull, enrolPhone, newest, openPerson, phoneContext, unlock } from "./phone.mjs";

const PIN = "975310";
const NICK = "Anatole-Tapir";
const MOTIVE = "Le dortoir est fermé pour travaux cette nuit";

/* The record_id a `veille ... --sync` command printed ("applied record_id=... version=N"). */
function applied(stdout) {
  const m = /applied record_id=([0-9a-f]{32})/.exec(stdout);
  assert.ok(m, `not applied: ${stdout}`);
  return m[1];
}

run(async () => {
  const server = await step("start veilled", () => startServer());
  const demo = await step("demo data", () => seedDemo(server));
  const siao = join(server.dir, "siao-device");
  await server.cli(siao, ["enrol", "--server", server.wsUrl, "--code", demo.codes["sophie-laurent"], "--label", "test"]);
  const chapelle = join(demo.devices, "nadia-roux");
  const tilleuls = join(demo.devices, "marc-petit");
  const browser = await launchBrowser();
  const context = await phoneContext(browser);
  const page = await context.newPage();
  const track = trackErrors(page, "maraude");
  await page.goto(`${server.url}maraude/`);
  await step("Camille enrols her phone", () => enrolPhone(page, demo.codes["camille-martin"], PIN));

  await step("offline: an encounter with a new person, then a shelter request for them", async () => {
    await context.setOffline(true);
    await page.reload(); // Chromium's offline mode leaves an open WebSocket be
    await unlock(page, PIN);
    await page.getByRole("button", { name: "Nouvelle rencontre" }).click();
    await page.getByRole("button", { name: "Nouvelle personne" }).click();
    await page.getByLabel("Surnom").fill(NICK);
    await page.getByRole("button", { name: "Mise à l'abri, hébergement" }).click();
    await page.getByRole("button", { name: "Enregistrer la rencontre" }).click();
    await openPerson(page, "anatole", new RegExp(NICK));
    await page.getByRole("button", { name: "Demander un hébergement" }).click();
    await page.getByRole("heading", { name: "Demande d'hébergement" }).waitFor();
    await axeCheck(page, "shelter request form");
    await screenshot(page, "request-form");
    // Sent empty (the bad input): the form says what is missing and saves nothing.
    await page.getByRole("button", { name: "Envoyer la demande au SIAO" }).click();
    await page.getByText("Indiquez l'urgence de la demande.").first().waitFor();
    await page.getByText("Cochez au moins une catégorie de place.").first().waitFor();
    await axeCheck(page, "shelter request form with its errors");
    await page.getByRole("radio", { name: "Mise à l'abri ce soir" }).check();
    await page.getByRole("checkbox", { name: "Homme seul" }).check();
    await page.getByRole("button", { name: "Envoyer la demande au SIAO" }).click();
    await page.getByText(/Demande enregistrée sur le téléphone ; elle partira au retour du réseau vers le SIAO\./).waitFor();
    await screenshot(page, "request-saved");
    await page.getByRole("button", { name: "Retour", exact: true }).click();
    await page.getByText("Une demande enregistrée sur le téléphone, en attente d'envoi").waitFor();
    await page.getByRole("button", { name: "Retour", exact: true }).click(); // to the search
    await page.getByRole("button", { name: "Retour", exact: true }).click(); // home
    await page.getByText("2 en attente d'envoi").waitFor(); // the encounter (with its new person), the request
    await openPerson(page, "anatole", new RegExp(NICK));
  });

  const personId = await step("network back: the request reaches the SIAO, waiting for a proposal", async () => {
    await context.setOffline(false);
    await page.getByText("Le SIAO n'a pas encore proposé de place.").waitFor({ timeout: 30000 });
    await axeCheck(page, "person screen, request waiting");
    const persons = [...newest(await cliPull(server, demo.devices, "camille-martin")).values()];
    const p = persons.find((c) => c.kind === "person" && c.fields.nickname?.value === NICK);
    assert.ok(p, "the colleague's device holds the new person");
    return p.record_id;
  });

  const requestId = [...newest(await cliPull(server, join(server.dir), "siao-device")).values()].find(
    (c) => c.kind === "request" && c.person_id === personId)?.record_id;
  assert.ok(requestId, "the SIAO holds the phone's request");

  await step("the SIAO proposes CHU La Chapelle: the phone shows the proposal", async () => {
    const r = await server.cli(siao, ["propose", "--request", requestId, "--centre", "chu-75-chapelle", "--category", "homme_seul", "--sync"]);
    const proposal = applied(r.stdout);
    await page.getByText(/Place « Homme seul » proposée à\s*CHU La Chapelle/).waitFor({ timeout: 20000 });
    await axeCheck(page, "person screen, proposal");
    await screenshot(page, "request-proposed");
    log(`proposal ${proposal} shown`);
    return proposal;
  }).then(async (proposal) => {
    await step("the centre refuses, with a motive: the phone shows the refusal and why", async () => {
      await server.cli(chapelle, ["decide", "--proposal", proposal, "--refuse", "place_indisponible", "--motive-text", MOTIVE, "--sync"]);
      await page.getByText(MOTIVE).waitFor({ timeout: 20000 });
      await page.getByText(/Refusée\s*par\s*CHU La Chapelle/).waitFor();
      await page.getByText("Le SIAO n'a pas encore proposé de place.").waitFor();
      await axeCheck(page, "person screen, refusal");
      await screenshot(page, "request-refused");
    });
  });

  await step("a second proposal is admitted by CHRS Les Tilleuls: the phone shows the admission", async () => {
    const r = await server.cli(siao, ["propose", "--request", requestId, "--centre", "chrs-75-tilleuls", "--category", "homme_seul", "--sync"]);
    const proposal = applied(r.stdout);
    await page.getByText(/proposée à\s*CHRS Les Tilleuls/).waitFor({ timeout: 20000 });
    const until = String(Date.now() + 30 * 86_400_000);
    await server.cli(tilleuls, ["decide", "--proposal", proposal, "--admit", "--until", until, "--sync"]);
    await page.getByText(/Admise\s*à\s*CHRS Les Tilleuls/).waitFor({ timeout: 20000 });
    await axeCheck(page, "person screen, admission");
    await screenshot(page, "request-admitted");
  });

  assertOnlyOfflineErrors(track);
});
