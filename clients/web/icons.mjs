// The maraude app's icons, drawn here (no copied art): a warm light on the night blue of the
// app's dark theme, the "veille" kept at night. PNG written with Node's zlib alone.
//
//   import { iconPng } from "./icons.mjs";  iconPng(size, { maskable })  -> Buffer
//
// Maskable icons keep the drawing inside the central 80 % safe zone (a circle of radius 0.4
// of the size), as the Web App Manifest's "maskable" purpose requires; the plain ones may use
// more of the square.
import { deflateSync } from "node:zlib";

const BG = [0x10, 0x17, 0x22]; // --bg of public/maraude/maraude.css
const LIGHT = [0xf5, 0xb9, 0x42]; // the amber accent
const HALO = [0x3a, 0x2f, 0x1c];

const CRC = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

/* Coverage in [0, 1] of a pixel by the disc of radius r at (c, c), 4x4 supersampled. */
function cover(x, y, c, r) {
  let n = 0;
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j < 4; j++) {
      const dx = x + (i + 0.5) / 4 - c;
      const dy = y + (j + 0.5) / 4 - c;
      if (dx * dx + dy * dy <= r * r) n++;
    }
  }
  return n / 16;
}
const mix = (a, b, t) => a.map((v, i) => Math.round(v + (b[i] - v) * t));

export function iconPng(size, { maskable = false } = {}) {
  const c = size / 2;
  const light = size * (maskable ? 0.2 : 0.26);
  const halo = size * (maskable ? 0.32 : 0.42);
  const rows = [];
  for (let y = 0; y < size; y++) {
    const row = Buffer.alloc(1 + size * 3); // filter 0, RGB
    for (let x = 0; x < size; x++) {
      let px = mix(BG, HALO, cover(x, y, c, halo));
      px = mix(px, LIGHT, cover(x, y, c, light));
      row.set(px, 1 + x * 3);
    }
    rows.push(row);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(Buffer.concat(rows), { level: 9 })),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}
