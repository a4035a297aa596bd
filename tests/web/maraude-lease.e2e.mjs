// The maraude phone's lease and revocation (issue 13, docs/threat-model.md), at 360x640 in a
// real Chromium against a real veilled with a short device lease: an encounter recorded
// offline; the lease runs out while the phone is offline with its round open, and the round
// closes its data by itself; opened again, the phone says its data stay locked until it
// reconnects (instead of failing each action); the network
// back, it authenticates, the store opens and the encounter reaches the server. Then the
// administrator revokes the phone (`veillectl device revoke`): it erases its account and its
// store and says it was withdrawn and must be paired again. Last, a lost phone: paired again,
// it records an encounter offline and is revoked meanwhile; at its next connection it erases
// itself the same way, and the encounter never reaches the server. axe on each screen.
import { assert, axeCheck, launchBrowser, log, run, screenshot, seedDemo, sleep, startServer, step, trackErrors } from "./harness.mjs";
import { assertOnlyOfflineErrors, cliPull, encountersByNote, enrolPhone, phoneContext, phoneDeviceId, recordEncounter,
  unlock } from "./phone.mjs";

const PIN = "314159";
const LEASE_SECONDS = 20; // long enough for the offline steps of a slow build before it ends
const NOTE = "Note rue Gerboise 8852";
const LOST_NOTE = "Note du téléphone perdu, rue Fennec 3317";

run(async () => {
  const server = await step("start veilled", () => startServer({ extraArgs: ["--device-lease-seconds", String(LEASE_SECONDS)] }));
  const demo = await step("demo data", () => seedDemo(server));
  const browser = await launchBrowser();
  const context = await phoneContext(browser);
  const page = await context.newPage();
  const track = trackErrors(page, "maraude");
  await page.goto(`${server.url}maraude/`);
  await enrolPhone(page, demo.codes["camille-martin"], PIN);
  const leaseEnd = Date.now() + LEASE_SECONDS * 1000; // at the latest: the lease began before

  await step("offline, before the lease's end: an encounter saved on the phone", async () => {
    await context.setOffline(true);
    await page.reload(); // Chromium's offline mode leaves an open WebSocket be
    await unlock(page, PIN);
    await page.getByRole("button", { name: "Nouvelle rencontre" }).click();
    await page.getByRole("searchbox", { name: "Qui rencontrez-vous ?" }).fill("jo");
    await page.getByRole("button", { name: /«\s*Jo\s*»/ }).first().click();
    await page.getByLabel(/Note de l'équipe/).fill(NOTE);
    await page.getByRole("button", { name: "Enregistrer la rencontre" }).click();
    await page.getByText("1 en attente d'envoi").waitFor();
    assert.ok(Date.now() < leaseEnd, "the encounter was saved before the lease's end");
  });

  await step("the lease ends offline with the round open: the data close by themselves", async () => {
    await page.getByRole("heading", { name: "Données verrouillées" }).waitFor({ timeout: Math.max(0, leaseEnd - Date.now()) + 10000 });
    await page.getByText("1 en attente d'envoi").waitFor();
    assert.equal(await page.getByRole("button", { name: "Nouvelle rencontre" }).count(), 0, "nothing of the round is reachable");
  });

  await step("the lease ended offline: the phone opened again says to reconnect", async () => {
    await page.getByRole("button", { name: "Verrouiller" }).click();
    await page.getByLabel("Code PIN").fill(PIN);
    await page.getByRole("button", { name: "Ouvrir" }).click();
    await page.getByRole("heading", { name: "Données verrouillées" }).waitFor({ timeout: 20000 });
    await page.getByText(/^Reconnectez-vous au réseau pour rouvrir/).waitFor();
    await page.getByText("1 en attente d'envoi").waitFor(); /* the locked store still says what waits */
    await axeCheck(page, "store locked by the lease");
    await screenshot(page, "lease-locked");
  });

  await step("network back: authenticated, the store opens, the encounter reaches the server", async () => {
    await context.setOffline(false);
    await page.getByRole("heading", { name: "Données verrouillées" }).waitFor({ state: "detached", timeout: 30000 });
    await page.getByText("Tout est reçu par le serveur").waitFor({ timeout: 30000 });
    const { stdout } = await server.cli(`${demo.devices}/camille-martin`, ["pull", "--from", "0", "--limit", "1000"]);
    assert.equal(stdout.split(NOTE).length - 1, 1, "the encounter pulled once by the team's CLI device");
  });

  await step("revoked by the administrator: everything erased, and the phone says so", async () => {
    const phone = server.ctl(["device", "list"]).split("\n")
      .map((l) => l.split("\t"))
      .find((f) => f[1] === "camille-martin" && f[4] === "téléphone de maraude");
    assert.ok(phone, "the phone in `veillectl device list`");
    server.ctl(["device", "revoke", phone[0]]);
    await page.getByRole("heading", { name: "Téléphone retiré" }).waitFor({ timeout: 20000 });
    await page.getByText(/demandez un nouveau code d'appairage/).waitFor();
    const dbs = await page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name));
    assert.ok(!dbs.includes(`veille-maraude-${phone[0]}`), `the phone's store is erased (${dbs.join(", ")})`);
    await axeCheck(page, "phone withdrawn");
    await screenshot(page, "revoked");
    await page.getByRole("button", { name: "Enrôler ce téléphone" }).click();
    await page.getByRole("heading", { name: "Enrôler ce téléphone" }).waitFor();
    await page.reload();
    await page.getByRole("heading", { name: "Enrôler ce téléphone" }).waitFor(); // no account left
    log("revoked: store and account erased");
  });

  await step("a lost phone, revoked while offline, erases itself at its next connection", async () => {
    const code = /pairing_code=(\S+)/.exec(server.ctl(["professional", "pair", "camille-martin"]))[1];
    await enrolPhone(page, code, PIN);
    const deviceId = await phoneDeviceId(page);
    await context.setOffline(true);
    await page.reload();
    await unlock(page, PIN);
    await recordEncounter(page, { nickname: "Wombat-Perdu" }, { needs: ["Hygiène"], note: LOST_NOTE });
    server.ctl(["device", "revoke", deviceId]);
    await context.setOffline(false);
    await page.getByRole("heading", { name: "Téléphone retiré" }).waitFor({ timeout: 30000 });
    const dbs = await page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name));
    assert.ok(!dbs.includes(`veille-maraude-${deviceId}`), `the phone's store is erased (${dbs.join(", ")})`);
    await page.reload();
    await page.getByRole("heading", { name: "Enrôler ce téléphone" }).waitFor(); // no account left
    const pulled = await cliPull(server, demo.devices, "camille-martin");
    assert.equal(encountersByNote(pulled, LOST_NOTE).size, 0, "a revoked phone's ops are refused");
  });

  assertOnlyOfflineErrors(track);
});
