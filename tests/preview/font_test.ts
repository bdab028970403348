import assert from "node:assert/strict";

import { drawText, GLYPH_ADVANCE, GLYPH_HEIGHT, measureText } from "../../src/preview/font.ts";
import { RgbaImage } from "../../src/preview/image.ts";

const WHITE = [255, 255, 255, 255] as const;

/** Returns the image as rows of "#" (white) and "." (anything else). */
function picture(image: RgbaImage): string[] {
  const rows = [];
  for (let y = 0; y < image.height; y++) {
    let row = "";
    for (let x = 0; x < image.width; x++) row += image.pixel(x, y)[0] === 255 ? "#" : ".";
    rows.push(row);
  }
  return rows;
}

Deno.test("drawText() draws the glyph bitmap", () => {
  const image = new RgbaImage(5, 7);
  drawText(image, 0, 0, "A", { color: WHITE });

  assert.deepEqual(picture(image), [".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"]);
});

Deno.test("drawText() scales each font pixel to a square", () => {
  const image = new RgbaImage(10, 14);
  drawText(image, 0, 0, "l", { color: WHITE, scale: 2 });

  assert.deepEqual(picture(image).slice(0, 4), [
    "..####....",
    "..####....",
    "....##....",
    "....##....",
  ]);
});

Deno.test("drawText() draws characters outside ASCII as a question mark", () => {
  const unknown = new RgbaImage(5, 7);
  const question = new RgbaImage(5, 7);
  drawText(unknown, 0, 0, "é", { color: WHITE });
  drawText(question, 0, 0, "?", { color: WHITE });

  assert.deepEqual(picture(unknown), picture(question));
  assert.ok(picture(question).join("").includes("#"));
});

Deno.test("every printable ASCII character has a distinct glyph", () => {
  const seen = new Map<string, string>();
  for (let code = 33; code <= 126; code++) {
    const image = new RgbaImage(5, 7);
    drawText(image, 0, 0, String.fromCharCode(code), { color: WHITE });
    const bitmap = picture(image).join("/");
    assert.ok(bitmap.includes("#"), `glyph of ${String.fromCharCode(code)} is empty`);
    assert.equal(
      seen.get(bitmap),
      undefined,
      `${String.fromCharCode(code)} looks like ${seen.get(bitmap)}`,
    );
    seen.set(bitmap, String.fromCharCode(code));
  }
});

Deno.test("measureText() matches what drawText() covers", () => {
  const size = measureText("Up 12", 3);
  const image = new RgbaImage(200, 40);
  drawText(image, 0, 0, "Up 12", { color: WHITE, scale: 3 });
  const columns = picture(image).map((row) => row.lastIndexOf("#"));

  assert.deepEqual(size, { width: (5 * GLYPH_ADVANCE - 1) * 3, height: GLYPH_HEIGHT * 3 });
  assert.equal(Math.max(...columns) + 1, size.width);
  assert.deepEqual(measureText("", 2), { width: 0, height: 14 });
});

Deno.test("drawText() puts a background box one font pixel around the text", () => {
  const image = RgbaImage.filled(20, 20, [0, 0, 0, 255]);
  drawText(image, 5, 5, "-", { color: WHITE, scale: 1, background: [0, 0, 255, 255] });

  assert.deepEqual(image.pixel(4, 4), [0, 0, 255, 255]);
  assert.deepEqual(image.pixel(10, 12), [0, 0, 255, 255]);
  assert.deepEqual(image.pixel(11, 12), [0, 0, 0, 255]);
  assert.deepEqual(image.pixel(10, 13), [0, 0, 0, 255]);
  assert.deepEqual(image.pixel(5, 8), [255, 255, 255, 255]); // the dash
});
