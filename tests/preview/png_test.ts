import assert from "node:assert/strict";
import { inflateSync } from "node:zlib";

import { RgbaImage } from "../../src/preview/image.ts";
import { crc32, encodePng } from "../../src/preview/png.ts";
import { grabFrame } from "../../src/preview/snapshot.ts";
import { resolveInput } from "../../src/source/input.ts";

/** Returns an image whose every pixel differs from its neighbours in each channel, alpha included. */
function patternImage(width: number, height: number): RgbaImage {
  const image = new RgbaImage(width, height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const offset = (y * width + x) * 4;
      image.data[offset] = (x * 37 + y * 11) & 0xff;
      image.data[offset + 1] = (x * 5 + y * 91) & 0xff;
      image.data[offset + 2] = (x * y + 7) & 0xff;
      image.data[offset + 3] = 255 - ((x + y) & 0x7f);
    }
  }
  return image;
}

/** Splits a PNG file into its chunks, checking each CRC. */
function readChunks(png: Uint8Array): { type: string; data: Uint8Array }[] {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const chunks = [];
  let offset = 8;
  while (offset < png.length) {
    const length = view.getUint32(offset);
    const type = new TextDecoder().decode(png.subarray(offset + 4, offset + 8));
    const data = png.subarray(offset + 8, offset + 8 + length);
    assert.equal(
      view.getUint32(offset + 8 + length),
      crc32(png.subarray(offset + 4, offset + 8 + length)),
      `CRC of ${type}`,
    );
    chunks.push({ type, data });
    offset += 12 + length;
  }
  return chunks;
}

Deno.test("crc32() matches the catalogue check value", () => {
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
});

Deno.test("encodePng() writes signature, IHDR, IDAT and IEND", () => {
  const png = encodePng(patternImage(7, 5));
  const chunks = readChunks(png);

  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  assert.deepEqual(chunks.map((c) => c.type), ["IHDR", "IDAT", "IEND"]);
  const header = new DataView(chunks[0].data.buffer, chunks[0].data.byteOffset, 13);
  assert.equal(header.getUint32(0), 7);
  assert.equal(header.getUint32(4), 5);
  assert.deepEqual([...chunks[0].data.subarray(8)], [8, 6, 0, 0, 0]);
  assert.equal(chunks[2].data.length, 0);
});

Deno.test("encodePng() stores each row behind a filter byte", () => {
  const image = patternImage(7, 5);
  const chunks = readChunks(encodePng(image));
  const raw = new Uint8Array(inflateSync(chunks[1].data));

  assert.equal(raw.length, 5 * (1 + 7 * 4));
  for (let y = 0; y < 5; y++) {
    const row = raw.subarray(y * 29, (y + 1) * 29);
    assert.equal(row[0], 0, `filter byte of row ${y}`);
    assert.deepEqual(
      row.subarray(1),
      image.data.subarray(y * 28, (y + 1) * 28),
      `pixels of row ${y}`,
    );
  }
});

Deno.test("encodePng() output decodes in GStreamer's pngdec to the same pixels", async () => {
  // 2000x1200 is larger than grabFrame's first buffer, so the retry with the exact size runs too.
  const image = patternImage(2000, 1200);
  const path = await Deno.makeTempFile({ suffix: ".png" });
  try {
    await Deno.writeFile(path, encodePng(image));
    const decoded = await grabFrame(await resolveInput(path));

    assert.equal(decoded.image.width, 2000);
    assert.equal(decoded.image.height, 1200);
    assert.ok(
      decoded.image.data.every((value, i) => value === image.data[i]),
      "pixels differ after decoding",
    );
  } finally {
    await Deno.remove(path);
  }
});
