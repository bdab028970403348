import assert from "node:assert/strict";

import { RgbaImage } from "../../src/preview/image.ts";

const BLACK = [0, 0, 0, 255] as const;

/** Returns the pixels of `image` that differ from `background`, as "x,y" strings. */
function changedPixels(image: RgbaImage, background: readonly number[]): Set<string> {
  const changed = new Set<string>();
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < image.width; x++) {
      if (image.pixel(x, y).some((value, i) => value !== background[i])) changed.add(`${x},${y}`);
    }
  }
  return changed;
}

Deno.test("RgbaImage rejects a size that does not match its data", () => {
  assert.throws(() => new RgbaImage(0, 4), RangeError);
  assert.throws(
    () => new RgbaImage(2, 2, new Uint8Array(15)),
    /15 bytes does not fit a 2x2 image \(16 bytes\)/,
  );
});

Deno.test("blendPixel() blends straight alpha over an opaque pixel", () => {
  const image = RgbaImage.filled(1, 1, [0, 0, 200, 255]);
  image.blendPixel(0, 0, [255, 0, 0, 128]);

  assert.deepEqual(image.pixel(0, 0), [128, 0, 100, 255]);
});

Deno.test("blendPixel() over a transparent pixel keeps the source colour", () => {
  const image = new RgbaImage(1, 1);
  image.blendPixel(0, 0, [10, 20, 30, 100]);

  assert.deepEqual(image.pixel(0, 0), [10, 20, 30, 100]);
});

Deno.test("fillRect() clips to the image", () => {
  const image = RgbaImage.filled(4, 4, BLACK);
  image.fillRect(-2, -2, 4, 3, [255, 255, 255, 255]);

  assert.deepEqual(changedPixels(image, BLACK), new Set(["0,0", "1,0"]));
});

Deno.test("fillPolygon() fills the pixels whose centres are inside", () => {
  const image = RgbaImage.filled(6, 6, BLACK);
  image.fillPolygon([{ x: 1, y: 1 }, { x: 4, y: 1 }, { x: 4, y: 3 }, { x: 1, y: 3 }], [
    255,
    0,
    0,
    255,
  ]);

  assert.deepEqual(
    changedPixels(image, BLACK),
    new Set(["1,1", "2,1", "3,1", "1,2", "2,2", "3,2"]),
  );
});

Deno.test("fillPolygon() blends a self-crossing outline once per pixel", () => {
  // A bow tie: a left and a right triangle meeting at the centre, joined by two crossing
  // diagonals. Each pixel is blended once, so every changed pixel has the same value.
  const image = RgbaImage.filled(20, 20, BLACK);
  image.fillPolygon([{ x: 0, y: 0 }, { x: 20, y: 20 }, { x: 20, y: 0 }, { x: 0, y: 20 }], [
    255,
    255,
    255,
    128,
  ]);

  const values = new Set<number>();
  for (const key of changedPixels(image, BLACK)) {
    const [x, y] = key.split(",").map(Number);
    values.add(image.pixel(x, y)[0]);
  }
  assert.deepEqual(values, new Set([128]));
  assert.equal(image.pixel(3, 10)[0], 128); // left triangle
  assert.equal(image.pixel(10, 3)[0], 0); // upper gap between the triangles
});

Deno.test("fillPolygon() far outside the image changes nothing", () => {
  const image = RgbaImage.filled(4, 4, BLACK);
  image.fillPolygon([{ x: -100, y: -100 }, { x: -50, y: -100 }, { x: -50, y: -50 }], [
    255,
    0,
    0,
    255,
  ]);
  image.fillPolygon([{ x: 10, y: 10 }, { x: 20, y: 10 }], [255, 0, 0, 255]);

  assert.equal(changedPixels(image, BLACK).size, 0);
});
