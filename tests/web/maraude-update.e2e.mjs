// An update of the phone app (issue 13: "an update of the app never loses the outbox or
// offline opening"), in a real Chromium against a real veilled serving a copy of the built
// app. Encounters are saved offline; a new version of the app is then put in place on the
// server (its index.html changed, and the service worker's precache list with it, as a build
// does). The phone, back online, installs it beside the running version; closed and opened
// again offline, it runs the new version from its service worker, with the PIN, and the
// records saved before the update are still waiting, then reach the server exactly once
// (checked by a colleague's `veille` CLI device).
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { assert, launchBrowser, log, run, seedDemo, startServer, step, trackErrors, waitFor, WEB_DIST } from "./harness.mjs";
import { cliPull, encountersByNote, enrolPhone, phoneContext, recordEncounter, unlock, waitingCount } from "./phone.mjs";

const PIN = "731904";
const PHONE_PRO = "yanis-benali";
const COLLEAGUE = "camille-martin";
const MARK = "<!-- veille: version de test 2 -->";

/* The next version of the app in web: index.html changed, and its revision in sw.js (the
 * precache list workbox-build wrote), so that the browser sees a new service worker. */
function publishNextVersion(web) {
  const dir = join(web, "maraude");
  const index = join(dir, "index.html");
  writeFileSync(index, readFileSync(index, "utf8").replace("</head>", `${MARK}</head>`));
  const sw = join(dir, "sw.js");
  const before = readFileSync(sw, "utf8");
  const after = before.replace(/("revision":")[0-9a-f]+(","url":"index\.html")/, "$1" + "0".repeat(32) + "$2");
  assert.notEqual(after, before, "index.html's revision found in sw.js");
  writeFileSync(sw, after);
  for (const f of [index, sw]) writeFileSync(`${f}.gz`, gzipSync(readFileSync(f)));
}

run(async () => {
  const web = mkdtempSync(join(process.env.TMPDIR || tmpdir(), "veille-web-dist-"));
  cpSync(WEB_DIST, web, { recursive: true });
  try {
    const server = await step("start veilled on a copy of the built app", () => startServer({ web }));
    const demo = await step("demo data", () => seedDemo(server));
    const browser = await launchBrowser();
    const context = await phoneContext(browser);
    let page = await context.newPage();
    trackErrors(page, "phone");
    const app = `${server.url}maraude/`;

    await step(`enrol ${PHONE_PRO}'s phone; three encounters saved offline`, async () => {
      await page.goto(app);
      await page.evaluate(async () => navigator.serviceWorker.ready);
      await enrolPhone(page, demo.codes[PHONE_PRO], PIN);
      await context.setOffline(true);
      await recordEncounter(page, { nickname: "Tatou" }, { needs: ["Alimentation"], note: "Avant la mise à jour 1" });
      for (const k of [2, 3])
        await recordEncounter(page, { search: "tatou", pick: /Tatou/ }, { needs: ["Alimentation"], note: `Avant la mise à jour ${k}` });
      assert.equal(await waitingCount(page), 3);
    });

    await step("a new version on the server: the phone, online again, installs it beside the running one", async () => {
      publishNextVersion(web);
      await context.setOffline(false);
      await page.evaluate(async () => (await navigator.serviceWorker.ready).update());
      await waitFor(() => page.evaluate(async () => !!(await navigator.serviceWorker.ready).waiting), {
        timeout: 20000,
        what: "the new version installed, waiting",
      });
      assert.ok(!(await page.content()).includes(MARK), "the running page is still the old version");
      await page.getByText("Tout est reçu par le serveur").waitFor({ timeout: 30000 });
      assert.equal(encountersByNote(await cliPull(server, demo.devices, COLLEAGUE), "Avant la mise à jour").size, 3);
    });

    await step("two more encounters offline, the app closed, opened again offline: the new version, nothing lost", async () => {
      await context.setOffline(true);
      for (const k of [4, 5])
        await recordEncounter(page, { search: "tatou", pick: /Tatou/ }, { needs: ["Alimentation"], note: `Avant la mise à jour ${k}` });
      await page.close();
      page = await context.newPage();
      trackErrors(page, "phone, new version");
      const res = await page.goto(app);
      assert.ok(res?.fromServiceWorker(), "opened offline from the service worker");
      assert.ok((await page.content()).includes(MARK), "the new version runs");
      await unlock(page, PIN);
      assert.equal(await waitingCount(page), 2, "the records saved before the update still wait");
      await context.setOffline(false);
      await page.getByText("Tout est reçu par le serveur").waitFor({ timeout: 30000 });
      const all = encountersByNote(await cliPull(server, demo.devices, COLLEAGUE), "Avant la mise à jour");
      assert.equal(all.size, 5, "each encounter on the server once");
      log("after the update: 5 of 5 encounters on the server, once each");
    });
  } finally {
    rmSync(web, { recursive: true, force: true });
  }
});
