import assert from "node:assert/strict";

import { parseAnalyticsConfig } from "../../src/analytics/config.ts";
import { RgbaImage } from "../../src/preview/image.ts";
import type { Rgba } from "../../src/preview/image.ts";
import {
  DISABLED_COLOR,
  drawAnalyticsOverlay,
  FILL_ALPHA,
  RULE_COLORS,
} from "../../src/preview/overlay.ts";

const GREY: Rgba = [100, 100, 100, 255];

/** Parses a config written for 1536x864, twice the 768x432 test frame. */
function config(groups: string) {
  const text = `[property]\nenable=1\nconfig-width=1536\nconfig-height=864\n\n${groups}`;
  return parseAnalyticsConfig(text, "overlay-test.txt").config;
}

function frame(): RgbaImage {
  return RgbaImage.filled(768, 432, GREY);
}

function blend(color: Rgba, alpha: number, under: Rgba): Rgba {
  const a = alpha / 255;
  return [0, 1, 2].map((i) => Math.round(color[i] * a + under[i] * (1 - a))).concat(
    255,
  ) as unknown as Rgba;
}

const LINE = `[line-crossing-stream-0]
enable=1
line-crossing-Entry=768;820;768;700;200;760;1300;760
extended=0
`;

Deno.test("drawAnalyticsOverlay() scales a line from config to frame pixels", () => {
  const image = frame();
  const drawn = drawAnalyticsOverlay(image, config(LINE));

  assert.deepEqual(drawn.scale, { x: 0.5, y: 0.5 });
  // Config y=760 is frame y=380; the segment runs from config x=200 to 1300 (frame 100 to 650).
  assert.deepEqual(image.pixel(300, 380), RULE_COLORS[0]);
  assert.deepEqual(image.pixel(600, 380), RULE_COLORS[0]);
  assert.deepEqual(image.pixel(300, 385), GREY);
  assert.deepEqual(image.pixel(90, 380), GREY, "extended=0 draws nothing beyond the segment");
  assert.deepEqual(image.pixel(660, 380), GREY);
});

Deno.test("drawAnalyticsOverlay() draws the counted direction as an arrow", () => {
  const image = frame();
  drawAnalyticsOverlay(image, config(LINE));

  // The arrow runs from config (768,820) to (768,700): frame x=384, y=410 up to y=350.
  assert.deepEqual(image.pixel(384, 400), RULE_COLORS[0]);
  assert.deepEqual(image.pixel(384, 352), RULE_COLORS[0], "tip");
  assert.deepEqual(image.pixel(384, 345), GREY, "nothing past the tip");
  assert.deepEqual(image.pixel(381, 359), RULE_COLORS[0], "head is wider than the shaft");
  assert.deepEqual(image.pixel(380, 400), GREY);
});

Deno.test("drawAnalyticsOverlay() shows the extension of an extended line", () => {
  const image = frame();
  drawAnalyticsOverlay(image, config(LINE.replace("extended=0", "extended=1")));

  assert.deepEqual(image.pixel(50, 380), blend(RULE_COLORS[0], 110, GREY));
  assert.deepEqual(image.pixel(300, 380), RULE_COLORS[0]);
});

Deno.test("drawAnalyticsOverlay() fills ROI and overcrowding polygons translucently", () => {
  const image = frame();
  drawAnalyticsOverlay(
    image,
    config(`[roi-filtering-stream-0]
enable=1
roi-Table=100;100;700;100;700;500;100;500

[overcrowding-stream-0]
enable=1
roi-Door=900;100;1400;100;1400;800;900;800
object-threshold=3
`),
  );

  assert.deepEqual(image.pixel(70, 70), blend(RULE_COLORS[0], FILL_ALPHA, GREY), "inside the ROI");
  assert.deepEqual(image.pixel(51, 150), RULE_COLORS[0], "the ROI outline");
  assert.deepEqual(
    image.pixel(500, 60),
    blend(RULE_COLORS[1], FILL_ALPHA, GREY),
    "inside the region",
  );
  assert.deepEqual(image.pixel(400, 200), GREY, "between the polygons");
  assert.deepEqual(image.pixel(200, 300), GREY, "below the ROI");
});

Deno.test("drawAnalyticsOverlay() draws disabled rules in grey", () => {
  const image = frame();
  drawAnalyticsOverlay(image, config(LINE.replace("enable=1", "enable=0")));

  assert.deepEqual(image.pixel(300, 380), DISABLED_COLOR);
});

Deno.test("drawAnalyticsOverlay() draws direction vectors", () => {
  const image = frame();
  drawAnalyticsOverlay(
    image,
    config(`[direction-detection-stream-0]
enable=1
direction-East=200;400;1000;400
`),
  );

  assert.deepEqual(image.pixel(200, 200), RULE_COLORS[0]);
  assert.deepEqual(image.pixel(200, 205), GREY);
});

Deno.test("drawAnalyticsOverlay() draws only the chosen stream", () => {
  const groups = LINE +
    LINE.replace("stream-0", "stream-1").replace("760;1300;760", "600;1300;600");
  const first = frame();
  const second = frame();
  drawAnalyticsOverlay(first, config(groups), { streamId: 0 });
  drawAnalyticsOverlay(second, config(groups), { streamId: 1 });

  assert.deepEqual(first.pixel(300, 380), RULE_COLORS[0]);
  assert.deepEqual(first.pixel(300, 300), GREY);
  assert.deepEqual(second.pixel(300, 300), RULE_COLORS[0]);
  assert.deepEqual(second.pixel(300, 380), GREY);
});

Deno.test("drawAnalyticsOverlay() truncates scaled coordinates like the engine", () => {
  // 1000 config pixels on a 333-pixel frame: y=500 scales to 166.5 and is truncated to 166.
  const text = "[property]\nenable=1\nconfig-width=1000\nconfig-height=1000\n\n" +
    "[line-crossing-stream-0]\nenable=1\nline-crossing-A=500;900;500;950;0;500;1000;500\nextended=0\n";
  const image = RgbaImage.filled(333, 333, GREY);
  drawAnalyticsOverlay(image, parseAnalyticsConfig(text, "odd.txt").config);

  assert.deepEqual(image.pixel(100, 166), RULE_COLORS[0]);
  assert.deepEqual(image.pixel(100, 165), RULE_COLORS[0]);
  assert.deepEqual(image.pixel(100, 167), GREY);
});

Deno.test("drawAnalyticsOverlay() writes the caption in the top-left corner", () => {
  const image = frame();
  drawAnalyticsOverlay(image, config(LINE), { caption: "stream 0" });

  let white = 0;
  for (let y = 0; y < 20; y++) {
    for (let x = 0; x < 100; x++) if (image.pixel(x, y)[0] === 255) white++;
  }
  assert.ok(white > 50, `${white} white pixels in the caption area`);
});
