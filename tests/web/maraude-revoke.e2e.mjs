// The device lease and revocation on the maraude phone (issue 13, docs/threat-model.md), in a
// real Chromium against a real veilled started with a 10 s lease (--device-lease-seconds):
//  - lease expiry locks: a phone that recorded an encounter offline and has not authenticated
//    for longer than the lease opens with its store locked (nothing shown, nothing can be
//    recorded, the bar says a connection is needed); the network back, it authenticates, the
//    store opens and the encounter reaches the server;
//  - revocation wipes: `veillectl device revoke` while the phone is connected, and while it is
//    offline with an encounter waiting (a lost phone) and then reconnects: each time the app
//    says it was revoked and its IndexedDB store and its account (the wrapped keys) are gone;
//    the lost phone's encounter never reaches the server.
import { assert, launchBrowser, log, run, screenshot, seedDemo, sleep, startServer, step,
  trackErrors } from "./harness.mjs";
import { cliPull, encountersByNote, enrolPhone, phoneContext, phoneDeviceId, recordEncounter, unlock,
  waitingCount } from "./phone.mjs";

const LEASE_S = 10;
const PIN = "468024";
const PHONE_PRO = "yanis-benali";
const COLLEAGUE = "camille-martin";
const NICK = "Okapi-Bail";

/* The phone's IndexedDB store names and the ids of the maraude accounts kept in the page's
   origin (opening only databases that exist: opening creates). */
async function phoneStorage(page) {
  return page.evaluate(async () => {
    const open = (name) => new Promise((ok, ko) => {
      const r = indexedDB.open(name);
      r.onsuccess = () => ok(r.result);
      r.onerror = () => ko(r.error);
    });
    const names = (await indexedDB.databases()).map((d) => d.name);
    const stores = names.filter((n) => n.startsWith("veille-maraude-"));
    let accounts = [];
    if (names.includes("veille-desk")) {
      const db = await open("veille-desk");
      accounts = await new Promise((ok) => {
        const r = db.transaction("accounts").objectStore("accounts").getAll();
        r.onsuccess = () => ok(r.result.filter((a) => a.app === "maraude").map((a) => a.deviceIdHex));
      });
      db.close();
    }
    return { stores, accounts };
  });
}

run(async () => {
  const server = await step(`start veilled with a ${LEASE_S} s device lease`,
    () => startServer({ extraArgs: ["--device-lease-seconds", String(LEASE_S)] }));
  const demo = await step("demo data", () => seedDemo(server));
  const browser = await launchBrowser();
  const context = await phoneContext(browser);
  const page = await context.newPage();
  trackErrors(page, "phone");
  const app = `${server.url}maraude/`;
  await page.goto(app);
  await page.evaluate(async () => navigator.serviceWorker.ready);

  /* A fresh pairing code for the phone's maraudeur. */
  const pairingCode = () => /pairing_code=(\S+)/.exec(server.ctl(["professional", "pair", PHONE_PRO]))[1];
  /* The phone offline, opened again from its service worker, one encounter recorded. */
  const encounterOffline = async (who, note) => {
    await context.setOffline(true);
    await page.reload();
    await unlock(page, PIN);
    await recordEncounter(page, who, { needs: ["Hygiène"], note });
  };
  /* The app told the phone was revoked, and it kept nothing. */
  const wiped = async (deviceId) => {
    await page.getByText("Ce téléphone a été révoqué").waitFor({ timeout: 20000 });
    await page.getByRole("heading", { name: "Enrôler ce téléphone" }).waitFor();
    const left = await phoneStorage(page);
    assert.ok(!left.stores.includes(`veille-maraude-${deviceId}`), `the store is gone: ${left.stores}`);
    assert.ok(!left.accounts.includes(deviceId), "the account (wrapped keys) is gone");
  };

  let deviceId;
  await step("lease expiry locks the phone's store until it authenticates", async () => {
    await enrolPhone(page, demo.codes[PHONE_PRO], PIN);
    await page.getByText(/^En ligne/).waitFor({ timeout: 20000 });
    const authAt = Date.now(); // at most: the AuthOk that gave the lease came before "En ligne"
    deviceId = await phoneDeviceId(page);
    await encounterOffline({ nickname: NICK }, "Note du bail 1");
    assert.equal(await waitingCount(page), 2);
    await sleep(Math.max(0, authAt + (LEASE_S + 1) * 1000 - Date.now()));
    await page.reload();
    await unlock(page, PIN);
    await page.getByText("Connexion nécessaire pour rouvrir les données").waitFor({ timeout: 20000 });
    assert.equal(await waitingCount(page), 2, "what waits in the locked store is still said to wait");
    await screenshot(page, "maraude-lease-locked");
    // Nothing of the store shows or can be written.
    await page.getByRole("button", { name: "Nouvelle rencontre" }).click();
    await page.getByRole("searchbox", { name: "Qui rencontrez-vous ?" }).fill("okapi");
    await page.getByText("Personne de connu sous ce nom.").waitFor();
    await page.getByRole("button", { name: "Nouvelle personne" }).click();
    await page.getByLabel("Surnom").fill("Fennec-Bail");
    await page.getByRole("button", { name: "Enregistrer la rencontre" }).click();
    await page.getByRole("alert").filter({ hasText: "verrouillées jusqu'à la prochaine connexion" }).waitFor();
    await page.getByRole("button", { name: "Annuler" }).click();
    // The network back: authenticated, the store opens, the encounter leaves.
    await context.setOffline(false);
    await page.getByText("Tout est reçu par le serveur").waitFor({ timeout: 30000 });
    await page.getByText(/^En ligne/).waitFor();
    assert.equal(encountersByNote(await cliPull(server, demo.devices, COLLEAGUE), "Note du bail").size, 1);
  });

  await step("revoked while connected: the phone wipes itself", async () => {
    server.ctl(["device", "revoke", deviceId]);
    await wiped(deviceId);
    await screenshot(page, "maraude-revoked");
  });

  await step("a lost phone revoked while offline wipes itself when it connects", async () => {
    await enrolPhone(page, pairingCode(), PIN);
    deviceId = await phoneDeviceId(page);
    await encounterOffline({ nickname: "Wombat-Perdu" }, "Note du téléphone perdu");
    server.ctl(["device", "revoke", deviceId]);
    await context.setOffline(false);
    await wiped(deviceId);
    assert.equal(encountersByNote(await cliPull(server, demo.devices, COLLEAGUE), "Note du téléphone perdu").size, 0,
      "a revoked device's ops are refused");
    log("the lost phone's encounter never reached the server; its store and keys are gone");
  });
});
