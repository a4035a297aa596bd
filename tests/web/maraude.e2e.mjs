// The maraude's phone app (issue 13), at 360x640 in a real Chromium against a real veilled:
// install criteria (manifest linked and valid, icons, service worker registered and controlling;
// the app sent gzip-compressed); a maraudeur enrols with her pairing code; the network is cut
// BEFORE the page is reloaded, and the app opens from its service worker; three encounters are
// recorded offline (one with the approximate place); the page reloaded offline still has them
// waiting; the network back, they reach the server exactly once (checked by the CLI as another
// device of the same maraude team); IndexedDB and the caches hold none of the test's strings in
// clear; axe finds no serious or critical violation on any screen.
import { join } from "node:path";
import { assert, axeCheck, launchBrowser, log, run, screenshot, seedDemo, startServer, step,
  trackErrors, waitFor } from "./harness.mjs";
import { browserStorage } from "./desk.mjs";
import { assertOnlyOfflineErrors, phoneContext, unlock } from "./phone.mjs";

const PIN = "135790";
// The test's own personal values, looked for in the browser's storage afterwards.
const NICK_1 = "Zéphyrin-Quokka";
const NICK_2 = "Bérénice-Axolotl";
const NOTES = ["Note rue Ornithorynque 4417", "Note rue Pangolin 5528", "Note rue Tatou 6639"];

/* One encounter through the form; who: { nickname } (new) or { search, pick } (known). */
async function encounter(page, who, note, { place = false } = {}) {
  await page.getByRole("button", { name: "Nouvelle rencontre" }).click();
  if (who.nickname) {
    await page.getByRole("button", { name: "Nouvelle personne" }).click();
    await page.getByLabel("Surnom").fill(who.nickname);
  } else {
    await page.getByRole("searchbox", { name: "Qui rencontrez-vous ?" }).fill(who.search);
    await page.getByRole("button", { name: who.pick }).first().click();
  }
  await page.getByRole("button", { name: "Boisson chaude" }).click();
  await page.getByRole("button", { name: "Mise à l'abri, hébergement" }).click();
  await page.getByLabel(/Note de l'équipe/).fill(note);
  if (place) {
    await page.getByRole("button", { name: "Ajouter le lieu approximatif" }).click();
    await page.getByText(/Zone [0-9a-z]{6} ajoutée/).waitFor();
  }
  const t0 = Date.now();
  await page.getByRole("button", { name: "Enregistrer la rencontre" }).click();
  await page.getByText("Rencontre enregistrée sur le téléphone.").waitFor();
  log(`encounter saved offline, shown in ${Date.now() - t0} ms`);
}

run(async () => {
  const server = await step("start veilled", () => startServer());
  const demo = await step("demo data", () => seedDemo(server));
  const browser = await launchBrowser();
  const context = await phoneContext(browser, {
    permissions: ["geolocation"],
    geolocation: { latitude: 48.8973, longitude: 2.3597 }, // porte de la Chapelle
  });
  const page = await context.newPage();
  const track = trackErrors(page, "maraude");
  const app = `${server.url}maraude/`;

  await step("install criteria: manifest, icons, service worker", async () => {
    const doc = await page.goto(app);
    // veilled sends the build's gzip twin; the service worker precaches through the browser,
    // which decompresses (the offline steps below open the app from that cache).
    assert.equal(doc.headers()["content-encoding"], "gzip", "index.html sent gzip-compressed");
    await page.getByRole("heading", { name: "Enrôler ce téléphone" }).waitFor();
    // Read from the test (Node's fetch): the page's CSP allows it no fetch() but /sync.
    const href = await page.locator('link[rel="manifest"]').getAttribute("href");
    const murl = new URL(href, app);
    const r = await fetch(murl);
    const m = { type: r.headers.get("content-type"), manifest: await r.json(), icons: [] };
    for (const i of m.manifest.icons) {
      const res = await fetch(new URL(i.src, murl));
      const png = Buffer.from(await res.arrayBuffer());
      assert.equal(png.subarray(1, 4).toString("latin1"), "PNG", `${i.src} is a PNG`);
      m.icons.push({ ...i, type: res.headers.get("content-type"), width: png.readUInt32BE(16), height: png.readUInt32BE(20) });
    }
    assert.equal(m.type, "application/manifest+json");
    assert.equal(m.manifest.name, "veille — maraude");
    assert.equal(m.manifest.short_name, "Maraude");
    assert.equal(m.manifest.lang, "fr");
    assert.equal(m.manifest.display, "standalone");
    assert.equal(m.manifest.start_url, "/maraude/");
    assert.equal(m.manifest.scope, "/maraude/");
    for (const [size, purpose] of [[192, "any"], [512, "any"], [512, "maskable"]]) {
      const i = m.icons.find((x) => x.width === size && x.purpose === purpose);
      assert.ok(i && i.type === "image/png" && i.height === size && i.sizes === `${size}x${size}`, `icon ${size} ${purpose}`);
    }
    const scope = await page.evaluate(async () => (await navigator.serviceWorker.ready).scope);
    assert.equal(scope, app);
    await page.reload(); // the worker controls the pages loaded after it
    await page.getByRole("heading", { name: "Enrôler ce téléphone" }).waitFor();
    assert.ok(await page.evaluate(() => !!navigator.serviceWorker.controller), "the service worker controls the page");
    const desk = await context.newPage();
    await desk.goto(server.url);
    assert.equal(await desk.evaluate(() => navigator.serviceWorker.controller), null, "the desk at / has no service worker");
    await desk.close();
    await axeCheck(page, "enrolment, 360x640");
    await screenshot(page, "maraude-enrol");
  });

  await step("enrol Camille (maraudeur) with her pairing code, choose a PIN", async () => {
    await page.getByLabel("Code d'appairage").fill(demo.codes["camille-martin"]);
    await page.getByRole("button", { name: "Enrôler" }).click();
    await page.getByRole("heading", { name: "Choisissez votre code PIN" }).waitFor({ timeout: 20000 });
    await axeCheck(page, "PIN choice");
    await page.getByLabel("Code PIN", { exact: true }).fill(PIN);
    await page.getByLabel("Le même code PIN, encore").fill(PIN);
    await page.getByRole("button", { name: "Valider" }).click();
    await page.getByRole("button", { name: "Nouvelle rencontre" }).waitFor({ timeout: 20000 });
    await page.getByText("Tout est reçu par le serveur").waitFor({ timeout: 20000 });
    await page.getByText("En direct").waitFor({ timeout: 20000 });
    await axeCheck(page, "home, online");
    await screenshot(page, "maraude-home-online");
    // The desk at / (same origin, same accounts database) does not list the phone's account.
    const desk = await context.newPage();
    await desk.goto(server.url);
    await desk.getByRole("heading", { name: "Enrôler ce poste" }).waitFor();
    await desk.close();
  });

  await step("network cut, then the page reloaded: the app opens from its service worker", async () => {
    await context.setOffline(true);
    const r = await page.reload();
    assert.ok(r.fromServiceWorker(), "index.html answered by the service worker");
    await page.getByRole("heading", { name: "Maraude verrouillée" }).waitFor();
    await axeCheck(page, "PIN screen");
    await screenshot(page, "maraude-pin");
    await unlock(page, PIN);
    await page.getByText(/^Hors ligne/).waitFor({ timeout: 20000 });
  });

  await step("three encounters recorded offline", async () => {
    await page.getByRole("button", { name: "Nouvelle rencontre" }).click();
    await page.getByRole("searchbox", { name: "Qui rencontrez-vous ?" }).fill("jo");
    await page.getByRole("button", { name: /«\s*Jo\s*»/ }).first().waitFor();
    await axeCheck(page, "person search");
    await screenshot(page, "maraude-person-search");
    await page.getByRole("button", { name: /«\s*Jo\s*»/ }).first().click();
    await page.evaluate(() => window.scrollTo(0, 0));
    await screenshot(page, "maraude-encounter-top");
    await page.getByRole("button", { name: "Boisson chaude" }).click();
    await page.getByRole("button", { name: "Duvet" }).click();
    await axeCheck(page, "encounter form");
    await screenshot(page, "maraude-encounter-form");
    await page.getByRole("button", { name: "Annuler" }).click();
    await encounter(page, { nickname: NICK_1 }, NOTES[0], { place: true });
    await encounter(page, { nickname: NICK_2 }, NOTES[1]);
    await encounter(page, { search: "zephyrin", pick: new RegExp(NICK_1) }, NOTES[2]);
    await page.getByText("3 en attente d'envoi").waitFor(); // 3 encounters, 2 of them with a new person
    await axeCheck(page, "home, offline with records waiting");
    await screenshot(page, "maraude-home-offline");
  });

  await step("reloaded offline: still waiting", async () => {
    const r = await page.reload();
    assert.ok(r.fromServiceWorker());
    await unlock(page, PIN);
    await page.getByText("3 en attente d'envoi").waitFor({ timeout: 20000 });
    await page.getByRole("button", { name: /Envois/ }).click();
    await page.getByRole("heading", { name: "Enregistrés sur le téléphone, en attente d'envoi" }).waitFor();
    const waiting = page.locator("li.state--wait");
    await waitFor(async () => (await waiting.count()) === 3, { what: "3 waiting encounters listed" });
    await axeCheck(page, "outbox, offline");
    await screenshot(page, "maraude-outbox-offline");
  });

  await step("network back: everything reaches the server, once", async () => {
    await context.setOffline(false);
    await page.getByText("Tout est reçu par le serveur").first().waitFor({ timeout: 30000 });
    await page.getByRole("heading", { name: "Rencontres reçues par le serveur" }).waitFor();
    await screenshot(page, "maraude-outbox-received");
    // A colleague's device of the same maraude team (demo-seed's CLI device for Camille's
    // team) pulls everything and finds each encounter once.
    const dev = join(demo.devices, "camille-martin");
    await server.cli(dev, ["sync"]);
    const { stdout } = await server.cli(dev, ["pull", "--from", "0", "--limit", "1000"]);
    for (const note of NOTES) {
      const n = stdout.split(note).length - 1;
      assert.equal(n, 1, `"${note}" pulled ${n} times, not once`);
    }
    log("each encounter reached the server once");
  });

  await step("nothing personal in clear in the browser's storage", async () => {
    const storage = await browserStorage(page);
    for (const s of [NICK_1, NICK_2, ...NOTES]) assert.ok(!storage.includes(s), `"${s}" in clear in the browser's storage`);
    log(`browser storage: ${storage.length} characters, none of the test's values`);
  });

  await step("locked when the page goes to the background; wrong PINs slow the next tries", async () => {
    await page.evaluate(() => {
      Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "hidden" });
      document.dispatchEvent(new Event("visibilitychange"));
      delete document.visibilityState; // back to the real one (visible)
    });
    await page.getByRole("heading", { name: "Maraude verrouillée" }).waitFor();
    for (let i = 1; i <= 4; i++) {
      await page.getByLabel("Code PIN").fill("000000");
      await page.getByRole("button", { name: "Ouvrir" }).click();
      await page.getByText(`Code PIN incorrect. ${10 - i} essais restants.`).waitFor();
    }
    // From the fourth wrong PIN, the next try waits (5 s after the fourth).
    await page.getByRole("button", { name: /Nouvel essai dans \d+ s/ }).waitFor();
    await axeCheck(page, "PIN screen after wrong PINs");
    await screenshot(page, "maraude-pin-wait");
    await page.getByRole("button", { name: "Ouvrir" }).waitFor({ timeout: 10000 });
    await unlock(page, PIN);
    await page.getByText("Tout est reçu par le serveur").first().waitFor({ timeout: 20000 });
  });

  assertOnlyOfflineErrors(track);
});
