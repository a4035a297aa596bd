// The SIAO and a centre, live (issue 12): the coordinator sees every demo centre on the map
// and in the table; a declaration made by the `veille` CLI shows without reload (time
// printed); the coordinator proposes a place to an open request; the centre's desk (a second
// browser context) sees the proposal live; refusing without a motive is blocked with a
// French message; with one, the coordinator sees the refusal and its motive live and the
// place is free again. The declaration and refusal forms are used with the keyboard only,
// and axe checks each view.
import { join } from "node:path";
import { assert, axeCheck, launchBrowser, log, measure, newContext, run, screenshot, seedDemo, startServer, step,
  trackErrors, waitFor } from "./harness.mjs";
import { enrol, tabTo } from "./desk.mjs";

const MOTIVE_TEXT = "La chambre prévue est en travaux jusqu'à lundi";
const HOLD_SECONDS = 20; // a proposal's hold (veilled --hold-seconds): short, to see one expire, long
                         // enough for the refusal steps of a slow (sanitizer) build

/* The free places a centre's row shows in the table (its "Total" column). */
const rowTotal = (page, id) => page.locator(`tr[data-id="${id}"] .col-total`).innerText().then((t) => Number(t.trim()));

run(async () => {
  const server = await step("start veilled", () => startServer({ lockSeconds: 600, holdSeconds: HOLD_SECONDS }));
  const demo = await step("demo data", () => seedDemo(server));
  const centres = server.ctl(["structure", "list"]).split("\n").filter((l) => /\t(chrs|chu|cph)\t/.test(l));
  const centreNames = centres.map((l) => l.split("\t")[3]);
  assert.ok(centreNames.length >= 8, `demo centres: ${centreNames.length}`);
  const browser = await launchBrowser();

  const siao = await (await newContext(browser)).newPage();
  const siaoErrors = trackErrors(siao, "SIAO");
  await siao.goto(server.url);
  await step("the SIAO coordinator enrols", () => enrol(siao, demo.codes["sophie-laurent"], "112233"));

  await step("every demo centre is on the map and in the table", async () => {
    await waitFor(async () => (await siao.locator("tr.centre-row").count()) === centreNames.length, { what: "table rows" });
    const shown = await siao.locator("tr.centre-row .centre-name").allInnerTexts();
    assert.deepEqual([...shown].sort(), [...centreNames].sort(), "centres in the table");
    /* markers are drawn on a canvas: the map says how many it drew, and each centre selected
     * in the table opens its marker's tooltip on the map, with its name */
    await waitFor(async () => (await siao.locator(".centres-map__box").getAttribute("data-markers")) === String(centreNames.length), {
      what: "one marker per located centre",
    });
    const exactly = (t) => new RegExp(`^${t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`);
    for (const name of centreNames) {
      const button = siao.locator("tr.centre-row button.centre-name", { hasText: exactly(name) });
      await button.click();
      await siao.locator(".cm-tooltip .cm-tip__name", { hasText: exactly(name) }).waitFor();
      await button.click(); /* unselected */
    }
    await screenshot(siao, "siao");
    await axeCheck(siao, "SIAO desk");
  });

  await step("a declaration made with the veille CLI shows without reload", async () => {
    const before = await rowTotal(siao, "chu-75-chapelle");
    const dev = join(demo.devices, "nadia-roux");
    let cliDone = 0;
    const t = await measure("CLI declaration to the SIAO's table (from the command's start)", async () => {
      const cli = server.cli(dev, ["places", "declare", "homme_seul=27", "couple=1"]).then(() => { cliDone = performance.now(); });
      await waitFor(async () => (await rowTotal(siao, "chu-75-chapelle")) === 28, { timeout: 5000, interval: 10, what: "the new declaration" });
      const shown = performance.now();
      await screenshot(siao, "siao-live-declaration"); /* the changed row highlighted */
      await cli;
      log(`measured: shown ${Math.max(0, Math.round(shown - cliDone))} ms after the CLI exited (or before it did)`);
    });
    assert.ok(before !== 28, "the declaration changed the row");
    assert.ok(t < 1000, `declaration shown in ${t.toFixed(0)} ms, over 1 s`);
  });

  const centre = await (await newContext(browser)).newPage();
  const centreErrors = trackErrors(centre, "centre");
  await centre.goto(server.url);
  await step("the CHRS Les Tilleuls' responsable enrols", () => enrol(centre, demo.codes["marc-petit"], "445566"));
  await centre.getByText("Aucune proposition en attente").waitFor();
  await axeCheck(centre, "centre desk, no proposal");

  await step("the centre declares its places with the keyboard only", async () => {
    await tabTo(centre, (el) => el.getAttribute("aria-label") === "Une place de plus : Homme seul");
    await centre.keyboard.press("Space"); // homme_seul 3 -> 4
    await tabTo(centre, (el) => el.textContent.trim() === "Déclarer ces places");
    await centre.keyboard.press("Enter");
    await waitFor(async () => (await rowTotal(siao, "chrs-75-tilleuls")) === 6, { what: "the SIAO sees the keyboard declaration" });
    assert.match(server.ctl(["places", "list", "--territory", "75"]), /chrs-75-tilleuls/);
  });

  const tilleulsFree = await rowTotal(siao, "chrs-75-tilleuls");
  await step("the coordinator proposes a place of CHRS Les Tilleuls to the oldest urgent request", async () => {
    await siao.getByRole("button", { name: "Proposer une place" }).first().click();
    await siao.getByRole("radio", { name: /CHRS Les Tilleuls.*Homme seul/ }).check();
    await axeCheck(siao, "SIAO desk, proposal panel");
    await siao.getByRole("button", { name: "Proposer cette place" }).click();
    await waitFor(async () => (await rowTotal(siao, "chrs-75-tilleuls")) === tilleulsFree - 1, { what: "the place held" });
    await screenshot(siao, "siao-proposed");
  });

  await step("the centre sees the proposal live, with the request's DECISION fields", async () => {
    await measure("proposal to the centre's desk", () => centre.getByRole("button", { name: "Refuser" }).waitFor({ timeout: 5000 }));
    const text = await centre.locator("main").innerText();
    assert.match(text, /1 adulte/, "household shown");
    for (const s of ["Ne veut pas être séparé", "Dort sous le pont", "camille-martin"]) assert.ok(!text.includes(s), `the centre sees "${s}"`);
    await screenshot(centre, "centre-proposal");
  });

  await step("refusing without a motive is blocked, in French (keyboard only)", async () => {
    await tabTo(centre, (el) => el.textContent.trim() === "Refuser");
    await centre.keyboard.press("Enter");
    await tabTo(centre, (el) => el.textContent.trim() === "Refuser la proposition");
    await centre.keyboard.press("Enter");
    await centre.getByText("Indiquez le motif du refus.").first().waitFor();
    await centre.getByText(/Précisez le motif du refus/).first().waitFor();
    await axeCheck(centre, "refusal form with its errors");
    await screenshot(centre, "centre-refusal-blocked");
    assert.equal(await rowTotal(siao, "chrs-75-tilleuls"), tilleulsFree - 1, "nothing was sent: the place is still held");
  });

  await step("with a motive, the coordinator sees the refusal and its motive live; the place is free again", async () => {
    await tabTo(centre, (el) => el.type === "radio");
    await centre.keyboard.press("ArrowDown"); // "Place en réalité indisponible"
    await tabTo(centre, (el) => el.tagName === "TEXTAREA");
    await centre.keyboard.type(MOTIVE_TEXT);
    await tabTo(centre, (el) => el.textContent.trim() === "Refuser la proposition");
    await centre.keyboard.press("Enter");
    await measure("refusal to the SIAO's desk", () => siao.getByText(MOTIVE_TEXT).first().waitFor({ timeout: 5000 }));
    await waitFor(async () => (await rowTotal(siao, "chrs-75-tilleuls")) === tilleulsFree, { what: "the place free again" });
    await centre.getByText("Aucune proposition en attente").waitFor();
    await screenshot(siao, "siao-refused");
  });

  await step("an expired hold frees the place live", async () => {
    const free = await rowTotal(siao, "chu-75-chapelle");
    const queued = await siao.getByRole("button", { name: "Proposer une place" }).count();
    await siao.getByRole("button", { name: "Proposer une place" }).first().click();
    await siao.getByRole("radio", { name: /CHU La Chapelle/ }).first().check();
    await siao.getByRole("button", { name: "Proposer cette place" }).click();
    await waitFor(async () => (await rowTotal(siao, "chu-75-chapelle")) === free - 1, { what: "the place held" });
    await siao.getByText(/retenue/).first().waitFor();
    await screenshot(siao, "siao-hold-countdown");
    await measure("hold expiry to the place free again on the SIAO's desk (hold " + HOLD_SECONDS + " s)", () =>
      waitFor(async () => (await rowTotal(siao, "chu-75-chapelle")) === free, { timeout: (HOLD_SECONDS + 5) * 1000, what: "the place freed" }));
    /* the request back in the queue: the proposal's expiry comes by the sync feed, the place by
     * the places stream, in either order (the next step counts the queue) */
    await waitFor(async () => (await siao.getByRole("button", { name: "Proposer une place" }).count()) === queued,
      { what: "the request back in the queue" });
  });

  await step("a proposal admitted: the request leaves the SIAO's queue; the centre sees the stay's extension deadline and end", async () => {
    const open = await siao.getByRole("button", { name: "Proposer une place" }).count();
    await siao.getByRole("button", { name: "Proposer une place" }).first().click();
    await siao.getByRole("radio", { name: /CHRS Les Tilleuls/ }).first().check();
    await siao.getByRole("button", { name: "Proposer cette place" }).click();
    await centre.getByRole("button", { name: "Admettre" }).click();
    await centre.getByRole("button", { name: "Confirmer l'admission" }).click();
    await centre.getByText(/Admission enregistrée/).first().waitFor();
    await centre.getByText("1 séjour en cours").waitFor();
    await centre.locator(".stays__later > summary").click();
    await centre.getByText("Dernier jour pour demander une prolongation").first().waitFor();
    await centre.getByText("Fin du séjour").first().waitFor();
    await waitFor(async () => (await siao.getByRole("button", { name: "Proposer une place" }).count()) === open - 1,
      { what: "the admitted request out of the queue" });
    await axeCheck(centre, "centre desk with a stay");
    await screenshot(centre, "centre-stay");
  });

  siaoErrors.assertNone();
  centreErrors.assertNone();
});
