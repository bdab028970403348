/**
 * The terminal view of `dskafka tail`: the latest counts per device and line label,
 * rendered as a text table and redrawn in place with ANSI escape sequences.
 *
 * Output goes through an injected `write` function, so tests can capture it.
 *
 * @module
 */

import type { CountsUpdate, LineCounts, RecordPosition } from "./_tail_message.ts";

/** The latest message of one device. */
export interface DeviceCounts {
  /** The device id. */
  deviceId: string;
  /** `frame.number` of the device's latest message. */
  frame: number;
  /** `@timestamp` of the device's latest message. */
  timestamp: string;
  /** Key, partition and offset of the device's latest message. */
  position: RecordPosition;
  /** Latest counts per line label. A label keeps its counts when a later message lacks it. */
  lines: Map<string, LineCounts>;
}

/** The latest counts per device, and how many records were read and skipped. */
export class LatestCounts {
  /** Records read, including skipped ones. */
  received = 0;
  /** Records that were not dskafka messages. */
  skipped = 0;

  readonly #devices = new Map<string, DeviceCounts>();

  /** Records one message. Later messages of a device replace its earlier counts. */
  update(update: CountsUpdate, position: RecordPosition): void {
    let device = this.#devices.get(update.deviceId);
    if (device === undefined) {
      device = {
        deviceId: update.deviceId,
        frame: update.frame,
        timestamp: update.timestamp,
        position,
        lines: new Map(),
      };
      this.#devices.set(update.deviceId, device);
    }

    device.frame = update.frame;
    device.timestamp = update.timestamp;
    device.position = position;
    for (const [label, counts] of Object.entries(update.lines)) {
      device.lines.set(label, { ...counts });
    }
  }

  /** Returns the devices sorted by id. */
  devices(): DeviceCounts[] {
    return [...this.#devices.values()].sort((a, b) => a.deviceId.localeCompare(b.deviceId));
  }
}

const HEADER = ["DEVICE", "LINE", "CURRENT", "CUMULATIVE", "FRAME", "TIMESTAMP"];

// Columns whose values are numbers, aligned to the right.
const NUMERIC_COLUMNS = new Set([2, 3, 4]);

/**
 * Renders the counts as text lines: a title, a header and one row per device and line
 * label. A device whose messages have no line labels gets one row with `-` as label.
 *
 * @param title the first line, for example the topic and the number of messages
 *
 * @example
 * ```ts
 * import { LatestCounts, renderTable } from "./_tail_table.ts";
 *
 * const counts = new LatestCounts();
 * counts.update(
 *   { deviceId: "gate-1", frame: 30, timestamp: "2024-05-01T12:00:00.000Z",
 *     lines: { Up: { current: 1, cumulative: 3 } } },
 *   { key: "gate-1", partition: 0, offset: 0 },
 * );
 * const lines = renderTable(counts, "topic counts");
 * console.assert(lines.length === 3 && lines[2].startsWith("gate-1"));
 * ```
 */
export function renderTable(counts: LatestCounts, title: string): string[] {
  const rows: string[][] = [];
  for (const device of counts.devices()) {
    const common = [String(device.frame), device.timestamp];
    if (device.lines.size === 0) {
      rows.push([device.deviceId, "-", "-", "-", ...common]);
      continue;
    }
    for (const [label, line] of device.lines) {
      rows.push([
        device.deviceId,
        label,
        String(line.current),
        String(line.cumulative),
        ...common,
      ]);
    }
  }

  const widths = HEADER.map((name, column) =>
    Math.max(name.length, ...rows.map((row) => row[column].length))
  );
  const format = (row: string[]) =>
    row.map((cell, column) =>
      NUMERIC_COLUMNS.has(column) ? cell.padStart(widths[column]) : cell.padEnd(widths[column])
    ).join("  ").trimEnd();

  return [title, format(HEADER), ...rows.map(format)];
}

/**
 * A block of lines at the bottom of a terminal that is redrawn in place: each
 * {@linkcode LiveTable.draw} moves the cursor back to the first line of the previous
 * block, erases to the end of the screen and writes the new block.
 *
 * Lines are cut to the terminal width, because a wrapped line would take two rows and
 * the next redraw would move up too few.
 */
export class LiveTable {
  readonly #write: (text: string) => void;
  readonly #columns: () => number;
  #height = 0;

  /**
   * @param write writes text to the terminal, for example with `Deno.stdout.writeSync`
   * @param columns returns the terminal width in characters, or 0 when it is unknown
   */
  constructor(write: (text: string) => void, columns: () => number) {
    this.#write = write;
    this.#columns = columns;
  }

  /** Replaces the block on screen with `lines`. */
  draw(lines: string[]): void {
    // A terminal that reports no width (0 columns) gets the lines uncut.
    const width = this.#columns() - 1;
    const cut = width < 1 ? lines : lines.map((line) => [...line].slice(0, width).join(""));
    this.#write(this.#eraseSequence() + cut.map((line) => line + "\n").join(""));
    this.#height = cut.length;
  }

  /** Erases the block, so that other text (a log line) can be written in its place. */
  erase(): void {
    if (this.#height === 0) return;

    this.#write(this.#eraseSequence());
    this.#height = 0;
  }

  // Carriage return, cursor up over the block (CUU), erase to the end of the screen (ED).
  #eraseSequence(): string {
    return this.#height === 0 ? "" : `\r\x1b[${this.#height}A\x1b[J`;
  }
}
