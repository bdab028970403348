/**
 * A 5x7 bitmap font for the printable ASCII characters, drawn at an integer scale.
 *
 * Each glyph is 7 rows of 5 pixels, top row first. A row is one byte written as two hex
 * digits, and bit 4 (0x10) is the leftmost pixel, so `"0e11111f111111"` is an `A`:
 *
 * ```text
 * .###.   0e
 * #...#   11
 * #...#   11
 * #####   1f
 * #...#   11
 * #...#   11
 * #...#   11
 * ```
 *
 * Characters outside ASCII 32–126 are drawn as `?`.
 *
 * @module
 */

import type { Rgba, RgbaImage } from "./image.ts";

/** Glyph width in font pixels. */
export const GLYPH_WIDTH = 5;

/** Glyph height in font pixels. */
export const GLYPH_HEIGHT = 7;

/** Horizontal advance per character in font pixels: the glyph and one blank column. */
export const GLYPH_ADVANCE = GLYPH_WIDTH + 1;

const FIRST_CODE = 32;

// Glyphs for codes 32 (space) to 126 (~), in order.
const GLYPHS: readonly string[] = [
  "00000000000000", // space
  "04040404040004", // !
  "0a0a0a00000000", // "
  "0a0a1f0a1f0a0a", // #
  "040f140e051e04", // $
  "18190204081303", // %
  "0c12140815120d", // &
  "04040400000000", // '
  "02040808080402", // (
  "08040202020408", // )
  "0004150e150400", // *
  "0004041f040400", // +
  "000000000c0408", // ,
  "0000001f000000", // -
  "00000000000c0c", // .
  "00010204081000", // /
  "0e11131519110e", // 0
  "040c040404040e", // 1
  "0e11010204081f", // 2
  "1f02040201110e", // 3
  "02060a121f0202", // 4
  "1f101e0101110e", // 5
  "0608101e11110e", // 6
  "1f010204080808", // 7
  "0e11110e11110e", // 8
  "0e11110f01020c", // 9
  "000c0c000c0c00", // :
  "000c0c000c0408", // ;
  "02040810080402", // <
  "00001f001f0000", // =
  "08040201020408", // >
  "0e110102040004", // ?
  "0e11010d15150e", // @
  "0e11111f111111", // A
  "1e11111e11111e", // B
  "0e11101010110e", // C
  "1c12111111121c", // D
  "1f10101e10101f", // E
  "1f10101e101010", // F
  "0e11101711110f", // G
  "1111111f111111", // H
  "0e04040404040e", // I
  "0702020202120c", // J
  "11121418141211", // K
  "1010101010101f", // L
  "111b1515111111", // M
  "11111915131111", // N
  "0e11111111110e", // O
  "1e11111e101010", // P
  "0e11111115120d", // Q
  "1e11111e141211", // R
  "0f10100e01011e", // S
  "1f040404040404", // T
  "1111111111110e", // U
  "11111111110a04", // V
  "1111111515150a", // W
  "11110a040a1111", // X
  "11110a04040404", // Y
  "1f01020408101f", // Z
  "0e08080808080e", // [
  "00100804020100", // backslash
  "0e02020202020e", // ]
  "040a1100000000", // ^
  "0000000000001f", // _
  "08040200000000", // `
  "00000e010f110f", // a
  "1010161911111e", // b
  "00000e1010110e", // c
  "01010d1311110f", // d
  "00000e111f100e", // e
  "0609081c080808", // f
  "000f110f01110e", // g
  "10101619111111", // h
  "04000c0404040e", // i
  "0200060202120c", // j
  "10101214181412", // k
  "0c04040404040e", // l
  "00001a15151111", // m
  "00001619111111", // n
  "00000e1111110e", // o
  "00001e111e1010", // p
  "00000d130f0101", // q
  "00001619101010", // r
  "00000e100e011e", // s
  "08081c08080906", // t
  "0000111111130d", // u
  "00001111110a04", // v
  "0000111115150a", // w
  "0000110a040a11", // x
  "000011110f010e", // y
  "00001f0204081f", // z
  "02040408040402", // {
  "04040404040404", // |
  "08040402040408", // }
  "00000815020000", // ~
];

/** Options of {@linkcode drawText}. */
export interface TextOptions {
  /** Size of one font pixel in image pixels. @default 1 */
  scale?: number;
  /** Colour of the glyph pixels. */
  color: Rgba;
  /** Colour of a box drawn behind the text, one font pixel wider on every side. */
  background?: Rgba;
}

/**
 * Returns the size in image pixels of `text` drawn at `scale`, without the background
 * margin.
 */
export function measureText(text: string, scale = 1): { width: number; height: number } {
  const characters = [...text].length;
  const width = characters === 0 ? 0 : (characters * GLYPH_ADVANCE - 1) * scale;
  return { width, height: GLYPH_HEIGHT * scale };
}

/**
 * Draws `text` with its top-left glyph corner at (`x`, `y`). Pixels outside the image are
 * skipped.
 *
 * @example Draw a label on a dark box
 * ```ts
 * import { drawText } from "./font.ts";
 * import { RgbaImage } from "./image.ts";
 *
 * const image = new RgbaImage(64, 16);
 * drawText(image, 2, 2, "Up 2", { scale: 1, color: [255, 255, 255, 255], background: [0, 0, 0, 160] });
 * ```
 */
export function drawText(
  image: RgbaImage,
  x: number,
  y: number,
  text: string,
  options: TextOptions,
): void {
  const scale = Math.max(1, Math.round(options.scale ?? 1));

  if (options.background) {
    const size = measureText(text, scale);
    image.fillRect(
      x - scale,
      y - scale,
      size.width + 2 * scale,
      size.height + 2 * scale,
      options.background,
    );
  }

  let left = x;
  for (const character of text) {
    const rows = glyphRows(character);
    for (let row = 0; row < GLYPH_HEIGHT; row++) {
      const bits = parseInt(rows.slice(row * 2, row * 2 + 2), 16);
      for (let column = 0; column < GLYPH_WIDTH; column++) {
        if ((bits >> (GLYPH_WIDTH - 1 - column)) & 1) {
          image.fillRect(left + column * scale, y + row * scale, scale, scale, options.color);
        }
      }
    }
    left += GLYPH_ADVANCE * scale;
  }
}

function glyphRows(character: string): string {
  const code = character.codePointAt(0) ?? 0;
  return GLYPHS[code - FIRST_CODE] ?? GLYPHS["?".charCodeAt(0) - FIRST_CODE];
}
