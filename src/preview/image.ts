/**
 * An RGBA picture in memory and the filling operations everything else is drawn with:
 * blending one pixel, filling a rectangle and filling a polygon.
 *
 * Pixels are 8-bit red, green, blue and alpha, rows top to bottom without padding, with
 * straight (not premultiplied) alpha as PNG stores it. Coordinates are in pixels with y
 * growing downwards, and pixel (x, y) covers the square from (x, y) to (x + 1, y + 1), so
 * its centre is (x + 0.5, y + 0.5).
 *
 * @module
 */

/** A colour as red, green, blue and alpha, each 0–255. Alpha 255 is opaque. */
export type Rgba = readonly [number, number, number, number];

/** A point in image pixels; fractions are allowed. */
export interface Point {
  x: number;
  y: number;
}

/**
 * An RGBA image whose drawing operations blend with "source over" compositing and skip
 * whatever falls outside the image.
 *
 * @example Fill a translucent square on a black picture
 * ```ts
 * import { RgbaImage } from "./image.ts";
 *
 * const image = RgbaImage.filled(8, 8, [0, 0, 0, 255]);
 * image.fillRect(2, 2, 4, 4, [255, 0, 0, 128]);
 * console.assert(image.pixel(3, 3)[0] === 128);
 * ```
 */
export class RgbaImage {
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
  /** `width * height * 4` bytes: R, G, B, A per pixel, row by row. */
  readonly data: Uint8Array<ArrayBuffer>;

  /**
   * Creates an image, transparent black unless `data` is given.
   *
   * @throws {RangeError} When a size is not a positive integer or `data` has the wrong length.
   */
  constructor(width: number, height: number, data?: Uint8Array<ArrayBuffer>) {
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
      throw new RangeError(`image size ${width}x${height} is invalid: use positive whole numbers`);
    }
    const length = width * height * 4;
    if (data !== undefined && data.length !== length) {
      throw new RangeError(
        `RGBA data of ${data.length} bytes does not fit a ${width}x${height} image (${length} bytes)`,
      );
    }
    this.width = width;
    this.height = height;
    this.data = data ?? new Uint8Array(length);
  }

  /** Creates an image with every pixel set to `color`. */
  static filled(width: number, height: number, color: Rgba): RgbaImage {
    const image = new RgbaImage(width, height);
    for (let offset = 0; offset < image.data.length; offset += 4) {
      image.data.set(color, offset);
    }
    return image;
  }

  /** Returns the colour of pixel (`x`, `y`), which must lie inside the image. */
  pixel(x: number, y: number): Rgba {
    const offset = (y * this.width + x) * 4;
    const d = this.data;
    return [d[offset], d[offset + 1], d[offset + 2], d[offset + 3]];
  }

  /** Blends `color` over pixel (`x`, `y`); integer coordinates outside the image are skipped. */
  blendPixel(x: number, y: number, color: Rgba): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;

    const offset = (y * this.width + x) * 4;
    const d = this.data;
    const sourceAlpha = color[3] / 255;
    if (sourceAlpha >= 1) {
      d.set(color, offset);
      return;
    }
    if (sourceAlpha <= 0) return;

    // "Source over" with straight alpha: blend the colours weighted by their coverage,
    // then divide by the resulting alpha.
    const targetAlpha = d[offset + 3] / 255;
    const alpha = sourceAlpha + targetAlpha * (1 - sourceAlpha);
    for (let channel = 0; channel < 3; channel++) {
      const blended = color[channel] * sourceAlpha +
        d[offset + channel] * targetAlpha * (1 - sourceAlpha);
      d[offset + channel] = Math.round(blended / alpha);
    }
    d[offset + 3] = Math.round(alpha * 255);
  }

  /** Blends `color` over the pixels of the rectangle, clipped to the image. */
  fillRect(x: number, y: number, width: number, height: number, color: Rgba): void {
    const left = Math.max(0, Math.round(x));
    const top = Math.max(0, Math.round(y));
    const right = Math.min(this.width, Math.round(x + width));
    const bottom = Math.min(this.height, Math.round(y + height));
    for (let row = top; row < bottom; row++) {
      for (let column = left; column < right; column++) this.blendPixel(column, row, color);
    }
  }

  /**
   * Blends `color` over every pixel whose centre lies inside the polygon, by the even-odd
   * rule, so each pixel is blended once even where the outline crosses itself. The last
   * vertex joins the first.
   */
  fillPolygon(points: readonly Point[], color: Rgba): void {
    if (points.length < 3) return;

    const top = Math.max(0, Math.floor(Math.min(...points.map((p) => p.y))));
    const bottom = Math.min(this.height - 1, Math.ceil(Math.max(...points.map((p) => p.y))));
    const crossings: number[] = [];

    for (let row = top; row <= bottom; row++) {
      // Where the horizontal line through the pixel centres meets each edge. An edge
      // includes its upper end and excludes its lower end, so a vertex is counted once.
      const centreY = row + 0.5;
      crossings.length = 0;
      for (let i = 0; i < points.length; i++) {
        const a = points[i];
        const b = points[(i + 1) % points.length];
        if ((a.y <= centreY && centreY < b.y) || (b.y <= centreY && centreY < a.y)) {
          crossings.push(a.x + ((centreY - a.y) * (b.x - a.x)) / (b.y - a.y));
        }
      }
      crossings.sort((p, q) => p - q);

      for (let i = 0; i + 1 < crossings.length; i += 2) {
        const first = Math.max(0, Math.ceil(crossings[i] - 0.5));
        const last = Math.min(this.width - 1, Math.floor(crossings[i + 1] - 0.5));
        for (let column = first; column <= last; column++) this.blendPixel(column, row, color);
      }
    }
  }
}
