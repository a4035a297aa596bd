/* Record ids and byte strings as hex. A record id is 16 random bytes written as 32 lowercase
 * hex characters, chosen by the client (docs/protocol.md, "Push"); device and server ids are
 * 16 bytes, kept as hex in IndexedDB. */

const RECORD_ID_BYTES = 16;
const HEX = /^(?:[0-9a-fA-F]{2})*$/;

/** A new record id, from the platform's cryptographic random source. */
export function newRecordId(): string {
  return toHex(crypto.getRandomValues(new Uint8Array(RECORD_ID_BYTES)));
}

/** Lowercase hex of b. */
export function toHex(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += x.toString(16).padStart(2, "0");
  return s;
}

/** The bytes of hex (either case). Throws RangeError on an odd length or a non-hex digit. */
export function fromHex(hex: string): Uint8Array {
  if (!HEX.test(hex)) throw new RangeError("not a hex string");
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}
