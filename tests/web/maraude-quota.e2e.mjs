// A full storage on the maraude phone (issue 13), at 360x640 in a real Chromium against a real
// veilled, the origin's quota set to 16 MiB (CDP Storage.overrideQuotaForOrigin): two
// encounters saved offline, then the rest of the room taken by another database, as a phone's
// other data would (the browser's own QuotaExceededError, not a fake one). The bad input is the
// third save, which the browser refuses: the form says in French that the phone's storage is
// full and that nothing saved before is lost, and keeps what was typed. Room made again (the
// other database deleted), the same form saves it; back online, the three
// encounters reach the server once each, as the team's CLI device pulls them. axe on the
// refused form.
import { assert, axeCheck, launchBrowser, run, screenshot, seedDemo, startServer, step, trackErrors } from "./harness.mjs";
import { assertOnlyOfflineErrors, cliPull, encountersByNote, enrolPhone, phoneContext, recordEncounter, unlock } from "./phone.mjs";

const PIN = "271828";
const NOTE = "Note quota Gerboise";

/* Fills the origin's storage, in a database of its own, until the browser refuses a write of
 * 256 bytes: what a phone's other data would do. */
async function fillStorage(page) {
  return page.evaluate(async () => {
    const db = await new Promise((res, rej) => {
      const o = indexedDB.open("filler", 1);
      o.onupgradeneeded = () => o.result.createObjectStore("s");
      o.onsuccess = () => res(o.result);
      o.onerror = () => rej(o.error);
    });
    const put = (n, key) =>
      new Promise((res) => {
        const tx = db.transaction("s", "readwrite");
        tx.objectStore("s").put(crypto.getRandomValues(new Uint8Array(n)), key);
        tx.oncomplete = () => res(true);
        tx.onabort = () => res(false);
      });
    let key = 0;
    let bytes = 0;
    for (let n = 1 << 16; n >= 256; n >>= 1) while (await put(n, key++)) bytes += n;
    db.close();
    return bytes;
  });
}

run(async () => {
  const server = await step("start veilled", () => startServer());
  const demo = await step("demo data", () => seedDemo(server));
  const browser = await launchBrowser();
  const context = await phoneContext(browser);
  const page = await context.newPage();
  const track = trackErrors(page, "maraude");
  /* A quota applies to an origin from its first use of storage: set before the first page. */
  const cdp = await context.newCDPSession(page);
  await cdp.send("Storage.overrideQuotaForOrigin", { origin: `${new URL(server.url).origin}/`, quotaSize: 16 << 20 });
  await page.goto(`${server.url}maraude/`);
  await enrolPhone(page, demo.codes["camille-martin"], PIN);

  await step("offline: two encounters saved", async () => {
    await context.setOffline(true);
    await page.reload(); // Chromium's offline mode leaves an open WebSocket be
    await unlock(page, PIN);
    for (const i of [1, 2]) await recordEncounter(page, { search: "jo", pick: /«\s*Jo\s*»/ }, { note: `${NOTE} ${i}` });
  });

  await step("the storage full: the save refused in French, what was typed kept", async () => {
    const filled = await fillStorage(page);
    assert.ok(filled > 0, "the filler took the room left");
    await page.getByRole("button", { name: "Nouvelle rencontre" }).click();
    await page.getByRole("searchbox", { name: "Qui rencontrez-vous ?" }).fill("jo");
    await page.getByRole("button", { name: /«\s*Jo\s*»/ }).first().click();
    await page.getByLabel(/Note de l'équipe/).fill(`${NOTE} 3`);
    await page.getByRole("button", { name: "Enregistrer la rencontre" }).click();
    const alert = page.getByRole("alert").filter({ hasText: "Le stockage du téléphone est plein" });
    await alert.waitFor();
    assert.match(await alert.innerText(), /Tout ce qui était déjà enregistré est conservé/);
    assert.equal(await page.getByLabel(/Note de l'équipe/).inputValue(), `${NOTE} 3`, "what was typed is kept");
    await axeCheck(page, "encounter form, storage full");
    await screenshot(page, "quota-full");
  });

  await step("room made again: the same form saves it, and nothing saved before was lost", async () => {
    await page.evaluate(() => new Promise((res) => (indexedDB.deleteDatabase("filler").onsuccess = res)));
    await page.getByRole("button", { name: "Enregistrer la rencontre" }).click();
    await page.getByText("Rencontre enregistrée sur le téléphone.").waitFor();
    await page.getByText("3 en attente d'envoi").waitFor();
  });

  await step("network back: the three encounters reach the server, once each", async () => {
    await context.setOffline(false);
    await page.getByText("Tout est reçu par le serveur").waitFor({ timeout: 30000 });
    const got = encountersByNote(await cliPull(server, demo.devices, "camille-martin"), NOTE);
    assert.deepEqual([...got.keys()].sort(), [1, 2, 3].map((i) => `${NOTE} ${i}`));
  });

  assertOnlyOfflineErrors(track);
});
