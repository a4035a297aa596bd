/* crypto/keys.ts, the page's proxy, against a stand-in for the key worker that runs the
 * worker's own answer() (keycore.ts) in this process: calls, failures, lock. */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import sodium from "libsodium-wrappers-sumo";
import { answer, KeyError, KeyHolder, type KeyReply, type KeyRequest } from "../../src/crypto/keycore";
import { Keys } from "../../src/crypto/keys";

/** Serves keys-worker.ts's protocol: id 0 when ready ("broken" URLs report a failure), then
 * one answer per request, asynchronously, through structured clones as postMessage does. */
class StandInWorker extends EventTarget {
  static last: StandInWorker | null = null;
  readonly holder = new KeyHolder(sodium);
  readonly seen: string[] = [];
  terminated = false;

  constructor(url: string | URL) {
    super();
    StandInWorker.last = this;
    const ready: KeyReply = String(url).includes("broken")
      ? { id: 0, ok: false, error: { code: "unavailable", message: "no wasm" } }
      : { id: 0, ok: true, result: null };
    setTimeout(() => this.reply(ready));
  }

  postMessage(req: KeyRequest): void {
    const copy = structuredClone(req);
    this.seen.push(copy.op);
    setTimeout(() => this.reply(answer(this.holder, copy)));
  }

  terminate(): void {
    this.terminated = true;
  }

  private reply(r: KeyReply): void {
    if (!this.terminated) this.dispatchEvent(new MessageEvent("message", { data: structuredClone(r) }));
  }
}

const deviceId = new Uint8Array(16).fill(3);
const unavailable = (e: unknown) => e instanceof KeyError && e.code === "unavailable";

before(async () => {
  await sodium.ready;
  (globalThis as { Worker?: unknown }).Worker = StandInWorker;
});

test("calls go to the worker and come back", async () => {
  const keys = await Keys.start("/keys-worker-TEST.js");
  const { publicKey } = await keys.generate();
  const { signature, code } = await keys.signEnrol("abcd-efgh-jkmn");
  assert.equal(code, "ABCDEFGHJKMN");
  const msg = new Uint8Array([
    ...new TextEncoder().encode("veille.v1/enrol"),
    ...publicKey,
    ...new TextEncoder().encode(code),
  ]);
  assert.ok(sodium.crypto_sign_verify_detached(signature, msg, publicKey));
  const wrapped = await keys.wrap("1357", deviceId);
  assert.deepEqual(await keys.unwrap(wrapped, "0000", deviceId), { ok: false });
  assert.deepEqual(await keys.unwrap(wrapped, "1357", deviceId), { ok: true, publicKey });
  assert.equal((await keys.signAuth(new Uint8Array(32), new Uint8Array(16), deviceId)).length, 64);
  await assert.rejects(
    keys.signAuth(new Uint8Array(31), new Uint8Array(16), deviceId),
    (e: unknown) => e instanceof KeyError && e.code === "bad-argument",
  );
  keys.lock();
});

test("lock: pending and later calls fail, the key is wiped, the worker terminated", async () => {
  const keys = await Keys.start("/keys-worker-TEST.js");
  const worker = StandInWorker.last!;
  await keys.generate();
  const pending = keys.wrap("1357", deviceId);
  keys.lock();
  keys.lock(); /* idempotent */
  await assert.rejects(pending, unavailable);
  await assert.rejects(keys.signEnrol("ABCD-EFGH-JKMN"), unavailable);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(worker.terminated, true);
  assert.deepEqual(worker.seen, ["generate", "wrap", "forget"]);
  assert.throws(
    () => worker.holder.signAuth(new Uint8Array(32), new Uint8Array(16), deviceId),
    (e: unknown) => e instanceof KeyError && e.code === "no-key",
  );
});

test("a worker that cannot start: KeyError unavailable, and it is terminated", async () => {
  await assert.rejects(Keys.start("/broken.js"), unavailable);
  assert.equal(StandInWorker.last!.terminated, true);
});

test("the store key: made, wrapped with the device key, sealing and opening in batches", async () => {
  const keys = await Keys.start("/keys-worker-TEST.js");
  await keys.generate();
  await keys.newStoreKey();
  const wrapped = await keys.wrap("1357", deviceId);
  assert.ok(wrapped.store);
  const ad = new TextEncoder().encode("veille.web/v1/records/r1");
  const [sealed] = await keys.sealMany([{ data: new TextEncoder().encode("Jojo"), ad }]);
  keys.lock();

  const again = await Keys.start("/keys-worker-TEST.js");
  assert.equal((await again.unwrap(wrapped, "1357", deviceId)).ok, true);
  assert.deepEqual(await again.openMany([{ data: sealed!, ad }]), [new TextEncoder().encode("Jojo")]);
  await assert.rejects(
    again.openMany([{ data: sealed!, ad: new TextEncoder().encode("veille.web/v1/records/r2") }]),
    (e: unknown) => e instanceof KeyError && e.code === "corrupt",
  );
  again.lock();
  await assert.rejects(again.sealMany([]), unavailable);
});
