// What the maraude phone's end-to-end tests do the same way: a phone-sized browser context,
// enrolment and the PIN, and what a colleague's `veille` CLI device of the team holds.
import { join } from "node:path";
import { assert, newContext, waitFor } from "./harness.mjs";

/** A phone: 360x640, touch, French. */
export function phoneContext(browser, extra = {}) {
  return newContext(browser, { viewport: { width: 360, height: 640 }, hasTouch: true, isMobile: true, deviceScaleFactor: 2, ...extra });
}

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
