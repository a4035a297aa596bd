/* Geohash (the protocol's coarse location, docs/decisions.md "Coarse location only"): the
 * public-domain definition by G. Niemeyer, base32 "0123456789bcdefghjkmnpqrstuvwxyz", bits
 * alternating longitude then latitude, each halving its interval. The phone sends at most 6
 * characters (a cell of about 1.2 km x 0.6 km): where a team works, never where a person
 * sleeps. */
const BASE32 = "0123456789bcdefghjkmnpqrstuvwxyz";

/** The protocol's longest geohash. */
export const GEOHASH_MAX = 6;

/** The geohash of (lat, lon) with `length` characters (1 to 12). RangeError on a coordinate
 * out of range. */
export function geohashEncode(lat: number, lon: number, length = GEOHASH_MAX): string {
  if (!(lat >= -90 && lat <= 90) || !(lon >= -180 && lon <= 180)) throw new RangeError("coordinates out of range");
  if (!Number.isInteger(length) || length < 1 || length > 12) throw new RangeError("geohash length: 1 to 12");
  const latR = [-90, 90];
  const lonR = [-180, 180];
  let out = "";
  let even = true; /* longitude first */
  let bits = 0;
  let n = 0;
  while (out.length < length) {
    const r = even ? lonR : latR;
    const v = even ? lon : lat;
    const mid = (r[0]! + r[1]!) / 2;
    n <<= 1;
    if (v >= mid) {
      n |= 1;
      r[0] = mid;
    } else {
      r[1] = mid;
    }
    even = !even;
    if (++bits === 5) {
      out += BASE32[n];
      bits = 0;
      n = 0;
    }
  }
  return out;
}
