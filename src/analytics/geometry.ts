/**
 * Plane geometry for the analytics engine, computed with the number types nvdsanalytics uses.
 *
 * Coordinates are pixels of the processed frame, origin at the top-left corner, x to
 * the right and y downwards. nvdsanalytics mixes three kinds of arithmetic and its
 * results depend on which one each step uses, so every helper here says which it
 * emulates:
 *
 * - `int` (C `int32_t`): box centres, history averages, polygon edges. Division
 *   truncates towards zero; products wrap at 2^32 ({@linkcode imul}, `| 0`).
 * - `float` (C `float`, 24-bit mantissa): the per-object means and variances, config
 *   scaling, the squared displacement. Every step is rounded with `Math.fround`
 *   ({@linkcode f32}), because a float sum of squared pixel coordinates loses the low
 *   digits and those digits decide the "stopped" test.
 * - `double`: line equations, direction cosines, segment intersections. JavaScript
 *   numbers are doubles, so these read as written, as long as the order of operations
 *   is the C order.
 *
 * @module
 */

/** Rounds a double to the nearest C `float` (IEEE single precision). */
export const f32: (x: number) => number = Math.fround;

/** 32-bit integer multiplication with C's wrap-around. */
export const imul: (a: number, b: number) => number = Math.imul;

const INT32_MIN = -2147483648;

/**
 * Converts a floating-point value to C `int32_t` the way x86-64 does: truncation towards
 * zero, and the "integer indefinite" value `INT32_MIN` when the value is NaN or out of
 * range (C leaves that case undefined; the library's compiled code gets `INT32_MIN`).
 */
export function toInt32(x: number): number {
  if (x > -2147483649 && x < 2147483648) return Math.trunc(x) | 0;
  return INT32_MIN;
}

/**
 * Converts a box coordinate the way the plugin copies `NvOSD_RectParams` (C `float`)
 * into the library's `uint32_t` fields: round to `float`, truncate, keep the low 32
 * bits (x86-64 converts through a 64-bit register, so a negative value wraps).
 */
export function rectToUint32(x: number): number {
  return Math.trunc(Math.fround(x)) >>> 0;
}

/** A point or vector in pixels. */
export interface Point {
  x: number;
  y: number;
}

/**
 * Unit vector from `(x1, y1)` towards `(x2, y2)`, in double; `(0, 0)` when the two
 * points coincide (the library's guard against a zero-length arrow).
 */
export function unitVector(x1: number, y1: number, x2: number, y2: number): Point {
  const length = Math.sqrt((x1 - x2) * (x1 - x2) + (y1 - y2) * (y1 - y2));
  if (length < 1e-9) return { x: 0, y: 0 };
  return { x: (x2 - x1) / length, y: (y2 - y1) / length };
}

/**
 * The line through two points as `a·x + b·y + c = 0`, normalised so that `(a, b)` is a
 * unit normal: `a·x + b·y + c` is then the signed distance of `(x, y)` from the line.
 *
 * ```
 *            normal (a, b) = (y1 - y2, x2 - x1) / |P1P2|   (P1P2 turned 90° clockwise on screen)
 *                 ▲
 *   P1 ───────────┼──────────► P2
 *     positive side: a·x + b·y + c > 0
 * ```
 *
 * Two coincident points give NaN coefficients, as in the library; every comparison
 * with NaN is false, so such a line never matches anything.
 */
export function lineEquation(x1: number, y1: number, x2: number, y2: number): Float64Array {
  const a = y1 - y2;
  const b = x2 - x1;
  const c = x1 * y2 - x2 * y1;
  const norm = Math.sqrt(a * a + b * b);
  return Float64Array.of(a / norm, b / norm, c / norm);
}

/** Divides `abc` in place by the length of its normal `(a, b)`. */
export function renormalize(abc: Float64Array): void {
  const norm = Math.sqrt(abc[0] * abc[0] + abc[1] * abc[1]);
  abc[0] /= norm;
  abc[1] /= norm;
  abc[2] /= norm;
}

/** Signed distance `a·x + b·y + c` of a point from a normalised line, in double. */
export function sideOfLine(abc: Float64Array, x: number, y: number): number {
  return abc[0] * x + abc[1] * y + abc[2];
}

/**
 * Intersection of two lines given as `a·x + b·y + c = 0`, by Cramer's rule:
 *
 * ```
 *   det = a1·b2 − b1·a2
 *   x   = (−c1·b2 + b1·c2) / det
 *   y   = (−a1·c2 + c1·a2) / det
 * ```
 *
 * Both equations are normalised in place first (the library does this on every call,
 * and renormalising an already unit normal can move its last bit, so the in-place
 * update is kept). Returns `null` for (nearly) parallel lines, `|det| < 1e-5`, which is
 * `|sin θ| < 1e-5` between the two lines.
 */
export function intersectLines(l1: Float64Array, l2: Float64Array): Point | null {
  renormalize(l1);
  renormalize(l2);
  const det = l1[0] * l2[1] - l1[1] * l2[0];
  if (Math.abs(det) < 1e-5) return null;
  return {
    x: (-l1[2] * l2[1] + l1[1] * l2[2]) / det,
    y: (-l1[0] * l2[2] + l1[2] * l2[0]) / det,
  };
}

/**
 * Whether the movement from `(px, py)` to `(cx, cy)` points along the unit vector `dir`
 * within the given cosine: `cos θ = (dir · move) / |move| ≥ minCosine`.
 *
 * The movement is in `int` pixels, the cosine in double; `minCosine` is the library's
 * `float` threshold (0.5f, 0.8f, 0.1f), already rounded to float by the caller. No
 * movement at all never matches.
 */
export function movesAlong(
  dir: Point,
  px: number,
  py: number,
  cx: number,
  cy: number,
  minCosine: number,
): boolean {
  const dx = (cx - px) | 0;
  const dy = (cy - py) | 0;
  if (dx === 0 && dy === 0) return false;
  const dot = dir.x * dx + dir.y * dy;
  const length = Math.sqrt((imul(dx, dx) + imul(dy, dy)) | 0);
  return !(dot / length < minCosine);
}

/**
 * Point-in-polygon test with nvdsanalytics' integer ray casting.
 *
 * A horizontal ray goes from the test point `(px, py)` to the left, to x = 0. Each
 * polygon edge (the last vertex joins the first) that straddles the ray's height is
 * intersected with the line y = py; the crossing's x is computed in `int`, truncated
 * towards zero:
 *
 * ```
 *   edge (x0, y0) → (x1, y1):  a = y0 − y1,  b = x1 − x0,  c = y1·x0 − x1·y0
 *   crossing x = −(b·py + c) / a
 *
 *          ●───────●
 *          │       │
 *   x=0 ◄──┼───────┼── (px, py)   two crossings left of the point: outside
 *          │   ◄───┼── (px, py)   one crossing: inside
 *          ●───────●
 * ```
 *
 * An edge counts when its lower end is at or above the ray and its upper end strictly
 * below (`y0 ≤ py < y1`, either way round), so a vertex exactly on the ray is counted
 * once; the crossing counts when `0 ≤ x ≤ px`, so a point exactly on a left edge is
 * inside and one exactly on a right edge is outside. The point is inside when the count
 * is odd. Concave
 * polygons work; self-intersecting ones give the even-odd rule.
 *
 * @param xs vertex x coordinates, already scaled to the frame
 * @param ys vertex y coordinates
 */
export function insidePolygon(xs: Int32Array, ys: Int32Array, px: number, py: number): boolean {
  const n = xs.length;
  let crossings = 0;
  let x0 = xs[0];
  let y0 = ys[0];
  for (let i = 0; i < n; i++) {
    const j = i + 1 < n ? i + 1 : 0;
    const x1 = xs[j];
    const y1 = ys[j];
    if ((py >= y0 && py < y1) || (py < y0 && py >= y1)) {
      const a = (y0 - y1) | 0;
      if (a !== 0) {
        const b = (x1 - x0) | 0;
        const c = (imul(y1, x0) - imul(x1, y0)) | 0;
        const numerator = -((imul(b, py) + c) | 0) | 0;
        const crossX = (numerator / a) | 0;
        if (crossX >= 0 && crossX <= px) crossings++;
      }
    }
    x0 = x1;
    y0 = y1;
  }
  return (crossings & 1) === 1;
}

/**
 * Scales one config coordinate to the frame as the library does: `int × float` in float,
 * then truncated back to `int`.
 *
 * @param value coordinate in config pixels
 * @param scale `float(frame size) / float(config size)`, already rounded to float
 */
export function scaleCoordinate(value: number, scale: number): number {
  return toInt32(f32(f32(value) * scale));
}

/** The library's scale factor: `(float)frameSize / (float)configSize`. */
export function scaleFactor(frameSize: number, configSize: number): number {
  return f32(f32(frameSize) / f32(configSize));
}
