// Kills in the middle of a push (issue 13): the maraude phone, in a real Chromium against a
// real veilled, records encounters offline, then the network comes back and
//  1. the browser process is killed (SIGKILL) the moment the server's PushResult reaches it:
//     the server has committed the ops, the phone has most likely not yet recorded that;
//  2. veilled is killed (SIGKILL) the moment the phone's PushRequest leaves the browser, and
//     started again on the same data directory.
// Each time: the server holds all of the push or none of it, the phone still holds all of it
// waiting or none, and once both are up again every encounter is on the server exactly once
// (pulled by a colleague's CLI device of the same team, libveille).
import { join } from "node:path";
import { assert, launchPersistent, log, run, seedDemo, startServer, step, trackErrors } from "./harness.mjs";
import { cliPull, encountersByNote, ENVELOPE, enrolPhone, PHONE, protoField, pushedOps, recordEncounter,
  unlock, waitingCount } from "./phone.mjs";

const PIN = "297531";
const PHONE_PRO = "yanis-benali";
const COLLEAGUE = "camille-martin";
const N = 40; // encounters per push, about one person
const NICK = "Pangolin-Poussée";

run(async () => {
  const server = await step("start veilled", () => startServer());
  const demo = await step("demo data", () => seedDemo(server));
  const profile = join(server.dir, "phone-profile");
  const app = `${server.url}maraude/`;
  let phone = await launchPersistent(profile, PHONE);
  let page = phone.context.pages()[0] ?? (await phone.context.newPage());
  trackErrors(page, "phone");

  await step(`enrol ${PHONE_PRO}'s phone`, async () => {
    await page.goto(app);
    await page.evaluate(async () => navigator.serviceWorker.ready);
    await enrolPhone(page, demo.codes[PHONE_PRO], PIN);
  });

  /* N encounters offline, notes `${tag} k`; the first one also makes the person. Returns the
   * ops they make (what a push carries); the phone counts N records waiting. */
  const offlineEncounters = async (tag, first) => {
    await phone.context.setOffline(true);
    assert.ok((await page.reload()).fromServiceWorker());
    await unlock(page, PIN);
    for (let k = 0; k < N; k++) {
      const who = first && k === 0 ? { nickname: NICK } : { search: "pangolin", pick: new RegExp(NICK) };
      await recordEncounter(page, who, { needs: ["Alimentation"], services: ["Duvet"], note: `${tag} ${k}` });
    }
    return N + (first ? 1 : 0);
  };
  /* How many of tag's encounters the server holds (every one at most once). */
  const onServer = async (tag) => encountersByNote(await cliPull(server, demo.devices, COLLEAGUE), tag).size;
  /* Resolves when the page's WebSocket carries a frame matching what, in direction dir. */
  const frame = (dir, what) =>
    new Promise((resolve) =>
      page.on("websocket", (ws) => ws.on(dir, ({ payload }) => typeof payload !== "string" && what(payload) && resolve())),
    );

  await step(`browser killed when the server's answer to a push of ${N + 1} ops reaches it`, async () => {
    const ops = await offlineEncounters("Rencontre A", true);
    const answered = frame("framereceived", (p) => protoField(p, ENVELOPE.pushResult) !== undefined);
    const killed = answered.then(() => phone.kill());
    await phone.context.setOffline(false);
    await killed;
    assert.equal(await onServer("Rencontre A"), N, "the server answered: it holds the push");
    phone = await launchPersistent(profile, { ...PHONE, offline: true });
    page = phone.context.pages()[0] ?? (await phone.context.newPage());
    trackErrors(page, "phone after the kill");
    await page.goto(app);
    await unlock(page, PIN);
    const left = await waitingCount(page);
    assert.ok(left === N || left === 0, `the phone holds all of the push waiting or none: ${left} of ${N} records (${ops} ops)`);
    log(`after the kill: the server holds the ${N} encounters, the phone still has ${left} of ${N} records waiting`);
    await phone.context.setOffline(false);
    await page.getByText("Tout est reçu par le serveur").waitFor({ timeout: 60000 });
    assert.equal(await onServer("Rencontre A"), N, "each encounter once");
  });

  await step(`veilled killed while a push of ${N} ops is in flight, started again`, async () => {
    const ops = await offlineEncounters("Rencontre B", false);
    const sent = frame("framesent", (p) => pushedOps(p).length === ops);
    const killed = sent.then(() => server.kill());
    await phone.context.setOffline(false);
    await killed;
    await server.restart();
    const held = await onServer("Rencontre B");
    assert.ok(held === N || held === 0, `the server holds all of the push or none: ${held} of ${N}`);
    log(`veilled started again: it holds ${held} of the ${N} encounters`);
    await page.getByText("Tout est reçu par le serveur").waitFor({ timeout: 60000 });
    assert.equal(await onServer("Rencontre B"), N, "each encounter once");
  });

  await step("in the end, every encounter on the server once and nothing refused", async () => {
    const all = encountersByNote(await cliPull(server, demo.devices, COLLEAGUE), "Rencontre ");
    assert.equal(all.size, 2 * N);
    assert.equal(await page.locator(".state--rejected").count(), 0);
  });
});
