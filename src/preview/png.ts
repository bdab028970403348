/**
 * PNG encoding of an {@linkcode RgbaImage}: 8-bit RGBA (colour type 6), no interlacing,
 * filter type 0 (None) on every row, the image data compressed with zlib by `node:zlib`.
 *
 * A PNG file is the 8-byte signature and then chunks, each `length (u32 big endian) ·
 * type (4 ASCII bytes) · data · CRC-32 of type and data`: here IHDR, one IDAT and IEND
 * (PNG specification, third edition, sections 5 and 11).
 *
 * @module
 */

import { deflateSync } from "node:zlib";

import type { RgbaImage } from "./image.ts";

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const COLOR_TYPE_RGBA = 6;
const FILTER_NONE = 0;

const CRC_TABLE = makeCrcTable();

/** Builds the lookup table of the CRC-32 that PNG uses (reflected polynomial 0xedb88320). */
function makeCrcTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let bit = 0; bit < 8; bit++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

/**
 * Computes the CRC-32 of `bytes` as PNG and zlib's `crc32()` define it.
 *
 * @example The check value of the CRC-32 catalogue
 * ```ts
 * import { crc32 } from "./png.ts";
 *
 * console.assert(crc32(new TextEncoder().encode("123456789")) === 0xcbf43926);
 * ```
 */
export function crc32(bytes: Uint8Array, initial = 0): number {
  let c = ~initial >>> 0;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/**
 * Encodes `image` as a PNG file.
 *
 * @param level zlib compression level, 0 (none) to 9 (smallest). @default 6
 *
 * @example Write a 2x1 picture
 * ```ts
 * import { RgbaImage } from "./image.ts";
 * import { encodePng } from "./png.ts";
 *
 * const image = new RgbaImage(2, 1, new Uint8Array([255, 0, 0, 255, 0, 0, 255, 128]));
 * const png = encodePng(image);
 * console.assert(png[1] === 0x50 && png[2] === 0x4e && png[3] === 0x47); // "PNG"
 * ```
 */
export function encodePng(image: RgbaImage, level = 6): Uint8Array<ArrayBuffer> {
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, image.width);
  view.setUint32(4, image.height);
  header[8] = 8; // bits per channel
  header[9] = COLOR_TYPE_RGBA;
  header[10] = 0; // compression method: zlib deflate, the only one defined
  header[11] = 0; // filter method 0: one filter-type byte before each row
  header[12] = 0; // no interlacing

  // Each row is its filter-type byte followed by the row's pixels.
  const rowBytes = image.width * 4;
  const filtered = new Uint8Array((rowBytes + 1) * image.height);
  for (let y = 0; y < image.height; y++) {
    filtered[y * (rowBytes + 1)] = FILTER_NONE;
    filtered.set(image.data.subarray(y * rowBytes, (y + 1) * rowBytes), y * (rowBytes + 1) + 1);
  }
  const compressed = new Uint8Array(deflateSync(filtered, { level }));

  const chunks = [
    chunk("IHDR", header),
    chunk("IDAT", compressed),
    chunk("IEND", new Uint8Array(0)),
  ];
  const file = new Uint8Array(SIGNATURE.length + chunks.reduce((sum, c) => sum + c.length, 0));
  file.set(SIGNATURE, 0);
  let offset = SIGNATURE.length;
  for (const c of chunks) {
    file.set(c, offset);
    offset += c.length;
  }
  return file;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(12 + data.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, data.length);
  bytes.set(new TextEncoder().encode(type), 4);
  bytes.set(data, 8);
  view.setUint32(8 + data.length, crc32(bytes.subarray(4, 8 + data.length)));
  return bytes;
}
