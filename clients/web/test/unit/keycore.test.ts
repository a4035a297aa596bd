/* crypto/keycore.ts, with libsodium's CommonJS build: the key worker's operations, the exact
 * byte layout of the enrolment and authentication proofs (docs/protocol.md) checked with
 * libsodium's verify, the PIN wrapping, the phone's store key, and the worker's
 * request/answer. */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import sodium from "libsodium-wrappers-sumo";
import {
  answer,
  type Bound,
  KeyError,
  KeyHolder,
  normalisePairingCode,
  PWHASH_MEMLIMIT,
  PWHASH_OPSLIMIT,
  type WrappedKey,
} from "../../src/crypto/keycore";

const utf8 = (s: string) => new TextEncoder().encode(s);
const concat = (...p: Uint8Array[]) => Uint8Array.from(p.flatMap((x) => [...x]));
const filled = (n: number, v: number) => new Uint8Array(n).fill(v);

const deviceId = filled(16, 0xd1);
const serverId = filled(16, 0x5e);

before(async () => {
  await sodium.ready;
});

test("pairing codes are normalised as libveille and veilled do", () => {
  /* veilled's tests/unit/test_pairing.c vectors */
  const vectors: [string, string][] = [
    ["ABCD-EFGH-JKMN", "ABCDEFGHJKMN"],
    ["abcd-efgh-jkmn", "ABCDEFGHJKMN"],
    ["abcd efgh jkmn", "ABCDEFGHJKMN"],
    [" ab-cd  ef--gh jk mn ", "ABCDEFGHJKMN"],
    ["IIII-LLLL-llll", "111111111111"],
    ["iiii-oooo-OOOO", "111100000000"],
    ["0123-4567-89XZ", "0123456789XZ"],
  ];
  for (const [code, want] of vectors) assert.equal(normalisePairingCode(code), want, code);
  /* libveille's proof.c: letters and digits only, 1 to 32 of them; the server checks the rest */
  for (const bad of [
    "",
    "----",
    "ABCD_EFGH_JKMN",
    "ABCD.EFGH.JKMN",
    "ABCD-EFGH-JKM\t",
    "ABCD-EFGH-JKMé",
    "ABCD-EFGH-JKMß", // "ß".toUpperCase() is "SS"
    "ABCD-EFGH-JKﬁ",
    "A".repeat(33),
  ])
    assert.equal(normalisePairingCode(bad), null, JSON.stringify(bad));
  assert.equal(normalisePairingCode("A".repeat(32)), "A".repeat(32));
});

test('enrolment proof: Ed25519("veille.v1/enrol" || public_key || normalised code)', () => {
  const k = new KeyHolder(sodium);
  const { publicKey } = k.generate();
  assert.equal(publicKey.length, 32);
  const { signature, code } = k.signEnrol("abcd-efgh-jkmo");
  assert.equal(code, "ABCDEFGHJKM0");
  assert.equal(signature.length, 64);
  const message = concat(utf8("veille.v1/enrol"), publicKey, utf8("ABCDEFGHJKM0"));
  assert.equal(message.length, 15 + 32 + 12);
  assert.ok(sodium.crypto_sign_verify_detached(signature, message, publicKey));
  /* Not over the code as typed. */
  assert.equal(
    sodium.crypto_sign_verify_detached(
      signature,
      concat(utf8("veille.v1/enrol"), publicKey, utf8("abcd-efgh-jkmo")),
      publicKey,
    ),
    false,
  );
  assert.throws(
    () => k.signEnrol("ABCD_EFGH"),
    (e: unknown) => e instanceof KeyError && e.code === "bad-argument",
  );
});

test('authentication proof: Ed25519("veille.v1/auth" || nonce || server_id || device_id)', () => {
  const k = new KeyHolder(sodium);
  const { publicKey } = k.generate();
  const nonce = sodium.randombytes_buf(32);
  const signature = k.signAuth(nonce, serverId, deviceId);
  const message = concat(utf8("veille.v1/auth"), nonce, serverId, deviceId);
  assert.equal(message.length, 14 + 32 + 16 + 16);
  assert.ok(sodium.crypto_sign_verify_detached(signature, message, publicKey));
  /* Another server's challenge gives another proof. */
  assert.notDeepEqual(k.signAuth(nonce, filled(16, 1), deviceId), signature);
  const sizes: [Uint8Array, Uint8Array, Uint8Array][] = [
    [nonce.subarray(1), serverId, deviceId],
    [nonce, serverId.subarray(1), deviceId],
    [nonce, serverId, new Uint8Array(17)],
  ];
  for (const [n, s, d] of sizes)
    assert.throws(
      () => k.signAuth(n, s, d),
      (e: unknown) => e instanceof KeyError && e.code === "bad-argument",
    );
});

test("no key held: nothing to sign or wrap", () => {
  const k = new KeyHolder(sodium);
  const noKey = (e: unknown) => e instanceof KeyError && e.code === "no-key";
  assert.throws(() => k.signAuth(filled(32, 0), serverId, deviceId), noKey);
  assert.throws(() => k.wrap("1234", deviceId), noKey);
  k.generate();
  k.forget();
  assert.throws(() => k.signEnrol("ABCD-EFGH-JKMN"), noKey);
});

test("wrap and unwrap: the same key back with the PIN; wrong PIN or device: ok false", () => {
  const k = new KeyHolder(sodium);
  const { publicKey } = k.generate();
  const w = k.wrap("2486", deviceId);
  assert.equal(w.v, 1);
  assert.deepEqual([w.salt.length, w.nonce.length, w.ct.length], [16, 24, 48]);
  assert.deepEqual([w.opslimit, w.memlimit], [2, 19 * 1024 * 1024]);
  assert.deepEqual([w.opslimit, w.memlimit], [PWHASH_OPSLIMIT, PWHASH_MEMLIMIT]);

  const other = new KeyHolder(sodium);
  assert.deepEqual(other.unwrap(w, "2487", deviceId), { ok: false });
  assert.deepEqual(other.unwrap(w, "2486", filled(16, 0xd2)), { ok: false }); /* wrapped for another device */
  const opened = other.unwrap(w, "2486", deviceId);
  assert.deepEqual(opened, { ok: true, publicKey });
  /* The key opened signs as the one generated. */
  const nonce = filled(32, 7);
  assert.deepEqual(other.signAuth(nonce, serverId, deviceId), k.signAuth(nonce, serverId, deviceId));
  /* A second wrap of the same key differs (fresh salt and nonce). */
  const w2 = k.wrap("2486", deviceId);
  assert.notDeepEqual(w2.salt, w.salt);
  assert.notDeepEqual(w2.ct, w.ct);
});

test("a wrong PIN keeps the key held; a tampered or odd wrapped key is refused", () => {
  const k = new KeyHolder(sodium);
  const { publicKey } = k.generate();
  const w = k.wrap("0000", deviceId);
  const holder = new KeyHolder(sodium);
  holder.unwrap(w, "0000", deviceId);
  assert.deepEqual(holder.unwrap(w, "9999", deviceId), { ok: false });
  assert.ok(
    sodium.crypto_sign_verify_detached(
      holder.signAuth(filled(32, 1), serverId, deviceId),
      concat(utf8("veille.v1/auth"), filled(32, 1), serverId, deviceId),
      publicKey,
    ),
  );

  const ct = w.ct.slice();
  ct[0]! ^= 1;
  assert.deepEqual(holder.unwrap({ ...w, ct }, "0000", deviceId), { ok: false });
  const corrupt = (e: unknown) => e instanceof KeyError && e.code === "corrupt";
  const odd: unknown[] = [
    null,
    { ...w, v: 2 },
    { ...w, salt: w.salt.subarray(1) },
    { ...w, nonce: new Uint8Array(12) },
    { ...w, ct: w.ct.subarray(0, 32) },
    { ...w, opslimit: 1 }, // weaker than what wrap makes
    { ...w, memlimit: 8 * 1024 * 1024 },
    { ...w, opslimit: 1000 }, // would run for minutes
    { ...w, memlimit: 4 * 1024 * 1024 * 1024 },
  ];
  for (const o of odd) assert.throws(() => holder.unwrap(o as WrappedKey, "0000", deviceId), corrupt);
  const badPin = (e: unknown) => e instanceof KeyError && e.code === "bad-argument";
  assert.throws(() => holder.unwrap(w, "", deviceId), badPin);
  assert.throws(() => k.wrap("x".repeat(129), deviceId), badPin);
});

test("the worker's answers: results, KeyErrors, unknown operations", () => {
  const k = new KeyHolder(sodium);
  const gen = answer(k, { id: 1, op: "generate", args: [] });
  assert.ok(gen.ok && (gen.result as { publicKey: Uint8Array }).publicKey.length === 32);
  assert.deepEqual(answer(k, { id: 2, op: "signAuth", args: [new Uint8Array(1), serverId, deviceId] }), {
    id: 2,
    ok: false,
    error: { code: "bad-argument", message: "nonce: expected 32 bytes" },
  });
  const unknown = answer(k, { id: 3, op: "constructor" as "forget", args: [] });
  assert.equal(unknown.ok, false);
  assert.deepEqual(answer(k, { id: 4, op: "forget", args: [] }), { id: 4, ok: true, result: undefined });
  const after = answer(k, { id: 5, op: "signEnrol", args: ["ABCD-EFGH-JKMN"] });
  assert.ok(!after.ok && after.error.code === "no-key");
});

/* ---- the phone's store key ---- */

const sealKeyError = (code: string) => (e: unknown) => e instanceof KeyError && e.code === code;

test("store key: seal and open round trip, a fresh nonce each time", () => {
  const k = new KeyHolder(sodium);
  k.newStoreKey();
  const ad = utf8("veille.web/v1/records/abc");
  const plain = utf8("Jojo, vu sous le pont");
  const sealed = k.seal(plain, ad);
  assert.equal(sealed.length, 24 + plain.length + 16);
  assert.deepEqual(k.open(sealed, ad), plain);
  assert.notDeepEqual(k.seal(plain, ad), sealed);
  assert.deepEqual(k.open(k.seal(new Uint8Array(0), ad), ad), new Uint8Array(0));
  const [a, b] = k.sealMany([
    { data: plain, ad },
    { data: utf8("autre"), ad: utf8("veille.web/v1/outbox/1") },
  ]);
  assert.deepEqual(k.openMany([{ data: a!, ad }]), [plain]);
  assert.deepEqual(k.openMany([{ data: b!, ad: utf8("veille.web/v1/outbox/1") }]), [utf8("autre")]);
});

test("store key: a tampered byte, another place's AD or another key does not open", () => {
  const k = new KeyHolder(sodium);
  k.newStoreKey();
  const ad = utf8("veille.web/v1/records/abc");
  const sealed = k.seal(utf8("note de santé"), ad);
  for (const at of [0, 23, 24, sealed.length - 1]) {
    const bad = sealed.slice();
    bad[at]! ^= 0x01;
    assert.throws(() => k.open(bad, ad), sealKeyError("corrupt"), `byte ${at}`);
  }
  assert.throws(() => k.open(sealed, utf8("veille.web/v1/records/abd")), sealKeyError("corrupt"));
  assert.throws(() => k.open(sealed.subarray(0, 39), ad), sealKeyError("corrupt"));
  assert.throws(() => k.openMany([{ data: sealed, ad }, { data: sealed, ad: utf8("x") }]), sealKeyError("corrupt"));
  const other = new KeyHolder(sodium);
  other.newStoreKey();
  assert.throws(() => other.open(sealed, ad), sealKeyError("corrupt"));
});

test("store key: none held, none after forget or generate; batches are bounded", () => {
  const k = new KeyHolder(sodium);
  assert.throws(() => k.seal(utf8("x"), utf8("ad")), sealKeyError("no-key"));
  k.newStoreKey();
  const sealed = k.seal(utf8("x"), utf8("ad"));
  k.forget();
  assert.throws(() => k.open(sealed, utf8("ad")), sealKeyError("no-key"));
  k.newStoreKey();
  k.generate(); /* a new device: a new store key comes after */
  assert.throws(() => k.seal(utf8("x"), utf8("ad")), sealKeyError("no-key"));
  k.newStoreKey();
  const many = Array.from({ length: 1001 }, () => ({ data: utf8("x"), ad: utf8("ad") }));
  assert.throws(() => k.sealMany(many), sealKeyError("bad-argument"));
  assert.equal(k.sealMany(many.slice(1)).length, 1000);
  assert.throws(() => k.sealMany([{ data: utf8("x"), ad: new Uint8Array(1025) }]), sealKeyError("bad-argument"));
  assert.throws(() => k.sealMany([{ data: "x", ad: utf8("ad") } as unknown as Bound]), sealKeyError("bad-argument"));
});

test("store key: wrapped beside the seed under the PIN, and restored by unwrap", () => {
  const phone = new KeyHolder(sodium);
  const { publicKey } = phone.generate();
  phone.newStoreKey();
  const w = phone.wrap("482916", deviceId);
  const box = w.store!;
  assert.deepEqual([box.nonce.length, box.ct.length], [24, 48]);
  const ad = utf8("veille.web/v1/outbox/7");
  const sealed = phone.seal(utf8("rencontre"), ad);

  const again = new KeyHolder(sodium);
  assert.deepEqual(again.unwrap(w, "482917", deviceId), { ok: false });
  assert.throws(() => again.open(sealed, ad), sealKeyError("no-key"));
  assert.deepEqual(again.unwrap(w, "482916", deviceId), { ok: true, publicKey });
  assert.deepEqual(again.open(sealed, ad), utf8("rencontre"));
  /* wrapped again (a new PIN): the same store key */
  const w2 = again.wrap("135790", deviceId);
  const third = new KeyHolder(sodium);
  assert.equal(third.unwrap(w2, "135790", deviceId).ok, true);
  assert.deepEqual(third.open(sealed, ad), utf8("rencontre"));

  /* the store key's box cannot pass for the seed's, nor be tampered with */
  assert.deepEqual(new KeyHolder(sodium).unwrap({ ...w, nonce: box.nonce, ct: box.ct }, "482916", deviceId), {
    ok: false,
  });
  const ct = box.ct.slice();
  ct[5]! ^= 1;
  const tampered = { ...w, store: { ...box, ct } };
  assert.throws(() => new KeyHolder(sodium).unwrap(tampered, "482916", deviceId), sealKeyError("corrupt"));
  for (const store of [{ nonce: new Uint8Array(12), ct: box.ct }, { nonce: box.nonce, ct: ct.subarray(1) }, null])
    assert.throws(
      () => new KeyHolder(sodium).unwrap({ ...w, store } as unknown as WrappedKey, "482916", deviceId),
      sealKeyError("corrupt"),
    );
});

test("a desk account (no store key) wraps and unwraps as before, and seals nothing", () => {
  const desk = new KeyHolder(sodium);
  const { publicKey } = desk.generate();
  const w = desk.wrap("2486", deviceId);
  assert.equal("store" in w, false);
  /* as stored by the desk app before store keys existed */
  const stored: WrappedKey = { v: 1, salt: w.salt, nonce: w.nonce, ct: w.ct, opslimit: w.opslimit, memlimit: w.memlimit };
  const other = new KeyHolder(sodium);
  assert.deepEqual(other.unwrap(stored, "2486", deviceId), { ok: true, publicKey });
  assert.throws(() => other.seal(utf8("x"), utf8("ad")), sealKeyError("no-key"));
  /* a phone's holder opening a desk account drops the store key it held */
  const phone = new KeyHolder(sodium);
  phone.generate();
  phone.newStoreKey();
  assert.equal(phone.unwrap(stored, "2486", deviceId).ok, true);
  assert.throws(() => phone.seal(utf8("x"), utf8("ad")), sealKeyError("no-key"));
});

test("the worker serves the store key's operations", () => {
  const k = new KeyHolder(sodium);
  assert.deepEqual(answer(k, { id: 1, op: "newStoreKey", args: [] }), { id: 1, ok: true, result: undefined });
  const ad = utf8("veille.web/v1/records/x");
  const sealed = answer(k, { id: 2, op: "sealMany", args: [[{ data: utf8("v"), ad }]] });
  assert.ok(sealed.ok);
  const opened = answer(k, { id: 3, op: "openMany", args: [[{ data: (sealed.result as Uint8Array[])[0], ad: utf8("y") }]] });
  assert.ok(!opened.ok && opened.error.code === "corrupt");
  assert.equal(answer(k, { id: 4, op: "seal" as "forget", args: [utf8("v"), ad] }).ok, false); /* not an op */
});
