/**
 * Thick lines, arrows and polygon outlines, each drawn as one filled polygon so that a
 * translucent colour is blended once per pixel.
 *
 * @module
 */

import type { Point, Rgba, RgbaImage } from "./image.ts";

/**
 * Draws the segment from `from` to `to`, `width` pixels thick, with flat ends. A segment
 * of length 0 draws a `width` × `width` square.
 *
 * @example Draw a red horizontal line 3 pixels thick
 * ```ts
 * import { RgbaImage } from "./image.ts";
 * import { drawLine } from "./shapes.ts";
 *
 * const image = new RgbaImage(32, 32);
 * drawLine(image, { x: 2, y: 16 }, { x: 30, y: 16 }, [255, 0, 0, 255], 3);
 * console.assert(image.pixel(16, 16)[0] === 255);
 * ```
 */
export function drawLine(
  image: RgbaImage,
  from: Point,
  to: Point,
  color: Rgba,
  width: number,
): void {
  const half = Math.max(0.5, width / 2);
  const length = Math.hypot(to.x - from.x, to.y - from.y);
  if (length === 0) {
    image.fillRect(from.x - half, from.y - half, 2 * half, 2 * half, color);
    return;
  }

  // Offset both ends by half the width along the segment's normal.
  const nx = (-(to.y - from.y) / length) * half;
  const ny = ((to.x - from.x) / length) * half;
  image.fillPolygon([
    { x: from.x + nx, y: from.y + ny },
    { x: to.x + nx, y: to.y + ny },
    { x: to.x - nx, y: to.y - ny },
    { x: from.x - nx, y: from.y - ny },
  ], color);
}

/**
 * Draws an arrow from `from` to `to`: a shaft `width` pixels thick and a filled triangular
 * head whose tip is `to`. The head is `headLength` long (default 5 × `width`, at most 60 %
 * of the arrow) and as wide as it is long.
 */
export function drawArrow(
  image: RgbaImage,
  from: Point,
  to: Point,
  color: Rgba,
  width: number,
  headLength?: number,
): void {
  const length = Math.hypot(to.x - from.x, to.y - from.y);
  if (length === 0) {
    drawLine(image, from, to, color, width);
    return;
  }

  const head = Math.min(headLength ?? 5 * width, 0.6 * length);
  const ux = (to.x - from.x) / length;
  const uy = (to.y - from.y) / length;
  const base = { x: to.x - ux * head, y: to.y - uy * head };

  drawLine(image, from, base, color, width);
  image.fillPolygon([
    to,
    { x: base.x - uy * head / 2, y: base.y + ux * head / 2 },
    { x: base.x + uy * head / 2, y: base.y - ux * head / 2 },
  ], color);
}

/** Draws the closed outline of a polygon, `width` pixels thick. */
export function strokePolygon(
  image: RgbaImage,
  points: readonly Point[],
  color: Rgba,
  width: number,
): void {
  for (let i = 0; i < points.length; i++) {
    drawLine(image, points[i], points[(i + 1) % points.length], color, width);
  }
}
