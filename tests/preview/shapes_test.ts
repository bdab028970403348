import assert from "node:assert/strict";

import { RgbaImage } from "../../src/preview/image.ts";
import { drawArrow, drawLine, strokePolygon } from "../../src/preview/shapes.ts";

const BLACK = [0, 0, 0, 255] as const;
const RED = [255, 0, 0, 255] as const;

const isRed = (image: RgbaImage, x: number, y: number) => image.pixel(x, y)[0] === 255;

Deno.test("drawLine() covers the segment and its width only", () => {
  const image = RgbaImage.filled(40, 40, BLACK);
  drawLine(image, { x: 5.5, y: 20.5 }, { x: 35.5, y: 20.5 }, RED, 3);

  for (let x = 6; x <= 35; x++) {
    assert.ok(isRed(image, x, 19), `column ${x}, row 19`);
    assert.ok(isRed(image, x, 20), `column ${x}, row 20`);
    assert.ok(isRed(image, x, 21), `column ${x}, row 21`);
    assert.ok(!isRed(image, x, 18), `column ${x} is too thick above`);
    assert.ok(!isRed(image, x, 22), `column ${x} is too thick below`);
  }
  assert.ok(!isRed(image, 3, 20), "the line reaches past its start");
  assert.ok(!isRed(image, 37, 20), "the line reaches past its end");
});

Deno.test("drawLine() draws a diagonal without gaps", () => {
  const image = RgbaImage.filled(40, 40, BLACK);
  drawLine(image, { x: 2, y: 2 }, { x: 38, y: 38 }, RED, 2);

  for (let i = 3; i < 37; i++) assert.ok(isRed(image, i, i), `pixel ${i},${i}`);
  assert.ok(!isRed(image, 30, 10));
});

Deno.test("drawArrow() ends in a head around its tip", () => {
  const image = RgbaImage.filled(60, 60, BLACK);
  drawArrow(image, { x: 30.5, y: 55.5 }, { x: 30.5, y: 10.5 }, RED, 2);

  assert.ok(isRed(image, 30, 12), "tip");
  assert.ok(isRed(image, 27, 17), "head is wider than the shaft on the left");
  assert.ok(isRed(image, 33, 17), "head is wider than the shaft on the right");
  assert.ok(!isRed(image, 26, 40), "shaft is as wide as the stroke on the left");
  assert.ok(!isRed(image, 34, 40), "shaft is as wide as the stroke on the right");
  assert.ok(isRed(image, 30, 40), "shaft");
  assert.ok(!isRed(image, 30, 8), "nothing beyond the tip");
});

Deno.test("strokePolygon() closes the outline", () => {
  const image = RgbaImage.filled(30, 30, BLACK);
  strokePolygon(image, [{ x: 5, y: 5 }, { x: 25, y: 5 }, { x: 25, y: 25 }], RED, 2);

  assert.ok(isRed(image, 15, 5), "top edge");
  assert.ok(isRed(image, 25, 15), "right edge");
  assert.ok(isRed(image, 15, 15), "closing edge back to the first vertex");
  assert.ok(!isRed(image, 20, 10), "interior stays empty");
  assert.ok(!isRed(image, 8, 20), "outside the triangle");
});
