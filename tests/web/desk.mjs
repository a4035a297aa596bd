// What the desk's end-to-end tests do the same way: enrol a browser, sign in and out, and read
// back everything the browser stores for the app's origin.
import { assert } from "./harness.mjs";

/** From the enrolment screen: pairing code, then a PIN twice; resolves once the desk shows. */
export async function enrol(page, code, pin) {
  await page.getByLabel("Code d'appairage").fill(code);
  await page.getByRole("button", { name: "Enrôler", exact: true }).click();
  await page.getByLabel("Code PIN", { exact: true }).fill(pin);
  await page.getByLabel("Confirmez le code PIN").fill(pin);
  await page.getByRole("button", { name: "Enregistrer le code PIN" }).click();
  await deskShown(page);
}

/** From the list of professionals enrolled in this browser: pick one (by a part of their
 *  name), type the PIN; resolves once the desk shows. */
export async function signIn(page, who, pin) {
  await page.getByRole("button", { name: new RegExp(who) }).click();
  await page.getByLabel("Code PIN").fill(pin);
  await page.getByRole("button", { name: "Ouvrir la session" }).click();
  await deskShown(page);
}

/** The desk is shown and live. */
export async function deskShown(page, timeout = 20000) {
  await page.getByRole("button", { name: "Se déconnecter" }).waitFor({ timeout });
  await page.locator(".link--live").waitFor({ timeout });
}

/** Signs out; resolves on the list of professionals of the fresh page. */
export async function signOut(page) {
  await page.getByRole("button", { name: "Se déconnecter" }).click();
  await page.getByRole("heading", { name: "Qui êtes-vous ?" }).waitFor();
}

/**
 * Everything the browser holds for the page's origin, as one string: every IndexedDB
 * database's every object store's values, localStorage, sessionStorage, and every Cache
 * Storage entry's body. Byte arrays are written as text too (a value sealed or not).
 */
export async function browserStorage(page) {
  const dump = await page.evaluate(async () => {
    const out = [];
    const text = (v) => {
      if (v instanceof ArrayBuffer) v = new Uint8Array(v);
      if (ArrayBuffer.isView(v)) return new TextDecoder("utf-8", { fatal: false }).decode(v);
      if (v && typeof v === "object") return Object.values(v).map(text).join(" ");
      return String(v);
    };
    for (const info of await indexedDB.databases()) {
      const db = await new Promise((ok, ko) => {
        const r = indexedDB.open(info.name);
        r.onsuccess = () => ok(r.result);
        r.onerror = () => ko(r.error);
      });
      for (const store of db.objectStoreNames) {
        const all = await new Promise((ok, ko) => {
          const r = db.transaction(store).objectStore(store).getAll();
          r.onsuccess = () => ok(r.result);
          r.onerror = () => ko(r.error);
        });
        out.push(`idb ${info.name}/${store}: ${all.map(text).join(" ")}`);
      }
      db.close();
    }
    for (const s of [localStorage, sessionStorage]) for (let i = 0; i < s.length; i++) out.push(`${s.key(i)}=${s.getItem(s.key(i))}`);
    for (const name of await caches.keys()) {
      const c = await caches.open(name);
      for (const req of await c.keys()) out.push(`cache ${req.url}: ${await (await c.match(req)).text()}`);
    }
    return out.join("\n");
  });
  assert.equal(typeof dump, "string");
  return dump;
}

/**
 * Keyboard only: presses Tab until the focused element satisfies pred (a function of the
 * element, run in the page: it must not use anything from the test's scope). At most `max`
 * presses; fails if none lands there.
 */
export async function tabTo(page, pred, max = 80) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press("Tab");
    const h = await page.evaluateHandle(() => document.activeElement);
    const ok = await h.evaluate(pred).catch(() => false);
    await h.dispose();
    if (ok) return;
  }
  throw new Error(`tabTo: no focusable element matching ${pred} within ${max} Tab presses`);
}
