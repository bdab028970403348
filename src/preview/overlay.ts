/**
 * Draws one stream's nvdsanalytics rules on a frame: ROI and overcrowding polygons
 * (translucent fill, outline, label), direction vectors (arrow, label) and counting lines
 * (the segment, the arrow of the direction it counts, label).
 *
 * Geometry is scaled from `config-width` × `config-height` to the frame size the way
 * nvdsanalytics and dskafka's engine scale it (`scaleFactor`, `scaleCoordinate`), so the
 * picture shows where the rules act on frames of this size. A rule that is disabled
 * (`enable=0`) is drawn in grey with "(off)" after its label.
 *
 * @module
 */

import type { AnalyticsConfig, ConfigPoint, StreamAnalyticsConfig } from "../analytics/config.ts";
import { streamConfig } from "../analytics/config.ts";
import { scaleCoordinate, scaleFactor } from "../analytics/geometry.ts";
import { drawText, measureText } from "./font.ts";
import type { Point, Rgba, RgbaImage } from "./image.ts";
import { drawArrow, drawLine, strokePolygon } from "./shapes.ts";

/** Colours given to rules in drawing order, chosen to stand out on camera pictures. */
export const RULE_COLORS: readonly Rgba[] = [
  [255, 221, 0, 255], // yellow
  [0, 229, 255, 255], // cyan
  [255, 64, 200, 255], // magenta
  [120, 255, 60, 255], // green
  [255, 140, 0, 255], // orange
  [80, 140, 255, 255], // blue
  [255, 60, 60, 255], // red
  [200, 160, 255, 255], // lavender
];

/** Colour of disabled rules. */
export const DISABLED_COLOR: Rgba = [170, 170, 170, 255];

/** Alpha of polygon fills (0–255). */
export const FILL_ALPHA = 70;

const LABEL_BACKGROUND: Rgba = [0, 0, 0, 170];
const CAPTION_COLOR: Rgba = [255, 255, 255, 255];

/** Options of {@linkcode drawAnalyticsOverlay}. */
export interface OverlayOptions {
  /** The stream whose `-stream-N` groups are drawn. @default 0 */
  streamId?: number;
  /** A line of text drawn in the top-left corner, for example the input and time. */
  caption?: string;
}

/** The rules and scale factors that {@linkcode drawAnalyticsOverlay} drew with. */
export interface OverlaySummary {
  /** The stream's rules. */
  stream: StreamAnalyticsConfig;
  /** Scale factors from config pixels to frame pixels. */
  scale: { x: number; y: number };
}

interface Label {
  text: string;
  color: Rgba;
  /** Anchor in image pixels; the label is drawn to its right, centred vertically. */
  at: Point;
  centred?: boolean;
}

/**
 * Draws the rules of one stream of `config` on `image`.
 *
 * @example Draw a config's lines on a grey frame
 * ```ts
 * import { parseAnalyticsConfig } from "../analytics/config.ts";
 * import { RgbaImage } from "./image.ts";
 * import { drawAnalyticsOverlay } from "./overlay.ts";
 *
 * const { config } = parseAnalyticsConfig(
 *   "[property]\nenable=1\nconfig-width=640\nconfig-height=360\n\n" +
 *     "[line-crossing-stream-0]\nenable=1\nline-crossing-In=320;300;320;200;20;250;620;250\n",
 *   "gate.txt",
 * );
 * const frame = RgbaImage.filled(1280, 720, [90, 90, 90, 255]);
 * const drawn = drawAnalyticsOverlay(frame, config, { caption: "gate.mp4 at 0 s" });
 * console.assert(drawn.scale.x === 2 && drawn.stream.lineCrossings.length === 1);
 * ```
 */
export function drawAnalyticsOverlay(
  image: RgbaImage,
  config: AnalyticsConfig,
  options: OverlayOptions = {},
): OverlaySummary {
  const stream = streamConfig(config, options.streamId ?? 0);
  const scale = {
    x: scaleFactor(image.width, config.configWidth),
    y: scaleFactor(image.height, config.configHeight),
  };
  // Place a config point at the centre of the frame pixel the engine maps it to.
  const toImage = (p: ConfigPoint): Point => ({
    x: scaleCoordinate(p.x, scale.x) + 0.5,
    y: scaleCoordinate(p.y, scale.y) + 0.5,
  });

  const shortSide = Math.min(image.width, image.height);
  const stroke = Math.max(2, Math.round(shortSide / 216));
  const textScale = Math.max(2, Math.round(shortSide / 360));
  const labels: Label[] = [];
  let colorIndex = 0;
  const nextColor = (enabled: boolean): Rgba =>
    enabled ? RULE_COLORS[colorIndex++ % RULE_COLORS.length] : DISABLED_COLOR;
  const labelText = (text: string, enabled: boolean) => (enabled ? text : `${text} (off)`);

  for (const roi of stream.roiFilters) {
    const color = nextColor(roi.enabled);
    const polygon = roi.polygon.map(toImage);
    image.fillPolygon(polygon, withAlpha(color, FILL_ALPHA));
    strokePolygon(image, polygon, color, stroke);
    const text = `ROI ${roi.label}${roi.inverse ? " (outside)" : ""}`;
    labels.push({
      text: labelText(text, roi.enabled),
      color,
      at: centroid(polygon),
      centred: true,
    });
  }

  for (const region of stream.overcrowding) {
    const color = nextColor(region.enabled);
    const polygon = region.polygon.map(toImage);
    image.fillPolygon(polygon, withAlpha(color, FILL_ALPHA));
    strokePolygon(image, polygon, color, stroke);
    const text = `crowd ${region.label} >=${Math.max(1, region.objectThreshold)}`;
    labels.push({
      text: labelText(text, region.enabled),
      color,
      at: centroid(polygon),
      centred: true,
    });
  }

  for (const direction of stream.directions) {
    const color = nextColor(direction.enabled);
    const to = toImage(direction.to);
    drawArrow(image, toImage(direction.from), to, color, stroke);
    labels.push({
      text: labelText(`dir ${direction.label}`, direction.enabled),
      color,
      at: beside(to, stroke),
    });
  }

  for (const line of stream.lineCrossings) {
    const color = nextColor(line.enabled);
    const [a, b] = line.segment.map(toImage);
    if (line.extended) {
      // extended=1 counts crossings of the whole line through the segment: show it thinly.
      drawInfiniteLine(image, a, b, withAlpha(color, 110));
    }
    drawLine(image, a, b, color, stroke);
    const tip = toImage(line.direction[1]);
    drawArrow(image, toImage(line.direction[0]), tip, color, stroke);
    labels.push({ text: labelText(line.label, line.enabled), color, at: beside(tip, stroke) });
  }

  // Labels go on last, so no shape covers them.
  for (const label of labels) placeLabel(image, label, textScale);
  if (options.caption !== undefined) {
    drawText(image, textScale, textScale, options.caption, {
      scale: textScale,
      color: CAPTION_COLOR,
      background: LABEL_BACKGROUND,
    });
  }

  return { stream, scale };
}

function withAlpha(color: Rgba, alpha: number): Rgba {
  return [color[0], color[1], color[2], alpha];
}

/** Returns the mean of the vertices: inside a convex polygon, a readable spot for its label. */
function centroid(points: readonly Point[]): Point {
  const x = points.reduce((sum, p) => sum + p.x, 0) / points.length;
  const y = points.reduce((sum, p) => sum + p.y, 0) / points.length;
  return { x, y };
}

function beside(tip: Point, stroke: number): Point {
  return { x: tip.x + 3 * stroke, y: tip.y };
}

/** Draws the line through `a` and `b` across the whole image, one pixel wide. */
function drawInfiniteLine(image: RgbaImage, a: Point, b: Point, color: Rgba): void {
  const length = Math.hypot(b.x - a.x, b.y - a.y);
  if (length === 0) return;

  const reach = (image.width + image.height) * 2 / length;
  const from = { x: a.x - (b.x - a.x) * reach, y: a.y - (b.y - a.y) * reach };
  const to = { x: b.x + (b.x - a.x) * reach, y: b.y + (b.y - a.y) * reach };
  drawLine(image, from, to, color, 1);
}

/** Draws a label on a dark box, moved inside the image when it would stick out. */
function placeLabel(image: RgbaImage, label: Label, scale: number): void {
  const size = measureText(label.text, scale);
  let x = label.centred ? label.at.x - size.width / 2 : label.at.x;
  let y = label.at.y - size.height / 2;
  x = Math.min(Math.max(scale, x), image.width - size.width - scale);
  y = Math.min(Math.max(scale, y), image.height - size.height - scale);
  drawText(image, Math.round(x), Math.round(y), label.text, {
    scale,
    color: label.color,
    background: LABEL_BACKGROUND,
  });
}
