/**
 * Draws a run's results on a frame: each object's box with its track id, and a panel
 * with the running total of each counting line.
 *
 * @module
 */

import { drawText, measureText } from "../preview/font.ts";
import type { Rgba, RgbaImage } from "../preview/image.ts";
import { strokePolygon } from "../preview/shapes.ts";
import type { RecordedObject } from "./recording.ts";

/** Outline colour of a tracked object's box and id: a green that no rule colour uses. */
export const TRACKED_BOX_COLOR: Rgba = [0, 255, 0, 255];

/** Outline colour of a box without a track id. */
export const UNTRACKED_BOX_COLOR: Rgba = [255, 255, 255, 255];

const LABEL_BACKGROUND: Rgba = [0, 0, 0, 170];
const PANEL_TEXT_COLOR: Rgba = [255, 255, 255, 255];

/** Stroke width and text scale for frames of this size, as the config overlay sizes them. */
export function drawingScale(image: RgbaImage): { stroke: number; text: number } {
  const shortSide = Math.min(image.width, image.height);
  return {
    stroke: Math.max(2, Math.round(shortSide / 216)),
    text: Math.max(2, Math.round(shortSide / 360)),
  };
}

/**
 * Draws each object's box, scaled by `scale` from processed-frame pixels to image pixels,
 * and its track id above the box. Untracked boxes get no id.
 */
export function drawObjects(
  image: RgbaImage,
  objects: readonly RecordedObject[],
  scale: { x: number; y: number },
): void {
  const { stroke, text } = drawingScale(image);

  for (const object of objects) {
    const color = object.trackId === null ? UNTRACKED_BOX_COLOR : TRACKED_BOX_COLOR;
    const left = object.left * scale.x;
    const top = object.top * scale.y;
    const right = (object.left + object.width) * scale.x;
    const bottom = (object.top + object.height) * scale.y;
    strokePolygon(
      image,
      [
        { x: left, y: top },
        { x: right, y: top },
        { x: right, y: bottom },
        { x: left, y: bottom },
      ],
      color,
      stroke,
    );

    if (object.trackId === null) continue;
    const label = `${object.trackId}`;
    const size = measureText(label, text);
    // Above the box when there is room, else just inside its top edge.
    const y = top - size.height - 2 * text >= 0 ? top - size.height - 2 * text : top + 2 * text;
    drawText(image, Math.round(left), Math.round(y), label, {
      scale: text,
      color,
      background: LABEL_BACKGROUND,
    });
  }
}

/** Formats the counts panel: each label and its total, two spaces apart ("Up 2  Down 1"). */
export function formatCounts(labels: readonly string[], counts: readonly number[]): string {
  return labels.map((label, i) => `${label} ${counts[i] ?? 0}`).join("  ");
}

/** Draws the counts panel in the top-left corner; nothing when there are no labels. */
export function drawCountsPanel(
  image: RgbaImage,
  labels: readonly string[],
  counts: readonly number[],
): void {
  if (labels.length === 0) return;

  const { text } = drawingScale(image);
  drawText(image, 2 * text, 2 * text, formatCounts(labels, counts), {
    scale: text,
    color: PANEL_TEXT_COLOR,
    background: LABEL_BACKGROUND,
  });
}
