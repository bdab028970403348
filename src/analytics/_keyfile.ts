/**
 * A GLib key-file reader that keeps what nvdsanalytics' parser sees, plus line numbers.
 *
 * nvdsanalytics reads its config with `GKeyFile` and the list separator `;`. The parts
 * of GKeyFile's behaviour that change what the plugin understands are kept here:
 *
 * - Lines are split at `\n` (a `\r` before it is dropped). Leading whitespace of a
 *   line is skipped. `#` starts a comment line; there are no trailing comments.
 * - `[name]` starts a group; spaces and tabs may follow the `]`. A group that appears
 *   twice is one group: the second header continues the first one.
 * - `key=value`: whitespace around the key and before the value is dropped, whitespace
 *   after the value is kept. A key given twice stays in the key list twice (the plugin
 *   walks that list), but every lookup returns the last value.
 * - Lists split at unescaped `;`; an empty last item (a trailing `;`) is dropped.
 *   `\s \n \t \r \\ \;` are escapes.
 * - Integers are C `strtol` in base 10: leading whitespace and a sign are allowed, and
 *   parsing stops at the first whitespace (GLib ignores what follows it).
 * - Booleans are `true`, `false`, `1` or `0`, trailing whitespace allowed.
 *
 * This module only reads; the checks that give the nvdsanalytics meaning of each key
 * live in `config.ts`.
 *
 * @module
 */

/** One `key=value` line. */
export interface KeyFileEntry {
  /** The key, whitespace trimmed. */
  key: string;
  /** The raw value: leading whitespace removed, trailing whitespace kept. */
  value: string;
  /** 1-based line number. */
  line: number;
}

/** One group, with every header line that opened it (duplicates merge into one group). */
export interface KeyFileGroup {
  name: string;
  /** 1-based line numbers of the `[name]` headers, the first one first. */
  headerLines: number[];
  /** The key-value lines in file order, duplicates included. */
  entries: KeyFileEntry[];
}

/** A syntax error: a line that is neither a group, a key-value pair nor a comment. */
export class KeyFileSyntaxError extends Error {
  /** 1-based line number. */
  readonly line: number;

  constructor(line: number, message: string) {
    super(message);
    this.name = "KeyFileSyntaxError";
    this.line = line;
  }
}

/** A parsed key file: its groups in order of first appearance. */
export interface KeyFile {
  groups: KeyFileGroup[];
}

const hasControlCharacter = (s: string) => {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) < 0x20) return true;
  return false;
};

const isSpace = (c: string) =>
  c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\v" || c === "\f";

/**
 * Parses key-file text. Throws {@linkcode KeyFileSyntaxError} for a line GKeyFile rejects.
 */
export function parseKeyFile(text: string): KeyFile {
  const groups: KeyFileGroup[] = [];
  const byName = new Map<string, KeyFileGroup>();
  let current: KeyFileGroup | undefined;

  // A byte-order mark is not part of the first line's text.
  const body = text.startsWith("\uFEFF") ? text.slice(1) : text;
  const lines = body.split("\n");
  // A final newline does not start another line.
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();

  lines.forEach((rawLine, index) => {
    const lineNumber = index + 1;
    const line = rawLine.endsWith("\r") ? rawLine.slice(0, -1) : rawLine;
    let start = 0;
    while (start < line.length && isSpace(line[start])) start++;
    const content = line.slice(start);

    if (content === "" || content.startsWith("#")) return;

    if (content.startsWith("[")) {
      const close = content.indexOf("]");
      if (close < 0 || !/^[ \t]*$/.test(content.slice(close + 1))) {
        throw new KeyFileSyntaxError(
          lineNumber,
          `"${content}" is not a valid group header; write it as [name] on a line of its own`,
        );
      }
      const name = content.slice(1, close);
      if (name === "" || name.includes("[") || hasControlCharacter(name)) {
        throw new KeyFileSyntaxError(lineNumber, `"${content}" is not a valid group name`);
      }
      const existing = byName.get(name);
      if (existing) {
        existing.headerLines.push(lineNumber);
        current = existing;
      } else {
        current = { name, headerLines: [lineNumber], entries: [] };
        byName.set(name, current);
        groups.push(current);
      }
      return;
    }

    const equals = content.indexOf("=");
    if (equals <= 0) {
      throw new KeyFileSyntaxError(
        lineNumber,
        `"${content}" is neither a [group] header, a key=value line nor a # comment`,
      );
    }
    if (!current) {
      throw new KeyFileSyntaxError(
        lineNumber,
        `key-value line "${content}" comes before any [group] header; start the file with [property]`,
      );
    }
    const key = content.slice(0, equals).replace(/[ \t\n\r\v\f]+$/, "");
    if (key === "" || key.includes("[") || key.includes("]") || hasControlCharacter(key)) {
      throw new KeyFileSyntaxError(lineNumber, `"${key}" is not a valid key name`);
    }
    let valueStart = equals + 1;
    while (valueStart < content.length && isSpace(content[valueStart])) valueStart++;
    current.entries.push({ key, value: content.slice(valueStart), line: lineNumber });
  });

  return { groups };
}

/** The entry GKeyFile returns for `key`: its last occurrence in the group. */
export function lookup(group: KeyFileGroup, key: string): KeyFileEntry | undefined {
  for (let i = group.entries.length - 1; i >= 0; i--) {
    if (group.entries[i].key === key) return group.entries[i];
  }
  return undefined;
}

/** Result of reading one value: the value, or why it could not be read. */
export type ValueResult<T> =
  | { ok: true; value: T; ignoredText?: string }
  | { ok: false; reason: string };

/**
 * Reads a C `int` the way `g_key_file_get_integer` does: base 10, leading whitespace
 * and sign allowed, anything after the first whitespace following the digits is
 * ignored (reported in `ignoredText`).
 */
export function readInteger(raw: string): ValueResult<number> {
  const match = /^[ \t\n\r\v\f]*([+-]?[0-9]+)(.*)$/s.exec(raw);
  if (!match) return { ok: false, reason: `"${raw}" is not an integer` };
  const rest = match[2];
  if (rest !== "" && !isSpace(rest[0])) return { ok: false, reason: `"${raw}" is not an integer` };
  const value = Number(match[1]);
  if (!Number.isSafeInteger(value) || value > 2147483647 || value < -2147483648) {
    return { ok: false, reason: `${match[1]} is out of the 32-bit integer range` };
  }
  const ignored = rest.trim();
  return ignored === "" ? { ok: true, value } : { ok: true, value, ignoredText: ignored };
}

/** Reads a boolean as `g_key_file_get_boolean`: `true`, `false`, `1` or `0`. */
export function readBoolean(raw: string): ValueResult<boolean> {
  const trimmed = raw.replace(/[ \t\n\r\v\f]+$/, "");
  if (trimmed === "true" || trimmed === "1") return { ok: true, value: true };
  if (trimmed === "false" || trimmed === "0") return { ok: true, value: false };
  return { ok: false, reason: `"${raw}" is not a boolean (use 1 or 0)` };
}

/**
 * Splits a list value at unescaped `;` and unescapes the items, as
 * `g_key_file_get_string_list`; a trailing `;` does not add an empty item.
 */
export function readList(raw: string): ValueResult<string[]> {
  const items: string[] = [];
  let item = "";
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c === "\\") {
      const next = raw[i + 1];
      i++;
      switch (next) {
        case "s":
          item += " ";
          break;
        case "n":
          item += "\n";
          break;
        case "t":
          item += "\t";
          break;
        case "r":
          item += "\r";
          break;
        case "\\":
          item += "\\";
          break;
        case ";":
          item += ";";
          break;
        case undefined:
          return { ok: false, reason: `"${raw}" ends with a lone backslash` };
        default:
          return { ok: false, reason: `"${raw}" contains the invalid escape \\${next}` };
      }
    } else if (c === ";") {
      items.push(item);
      item = "";
    } else {
      item += c;
    }
  }
  if (item !== "") items.push(item);
  return { ok: true, value: items };
}

/** Unescapes a string value as `g_key_file_get_string`. */
export function readString(raw: string): ValueResult<string> {
  let out = "";
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c !== "\\") {
      out += c;
      continue;
    }
    const next = raw[++i];
    const replacement =
      ({ s: " ", n: "\n", t: "\t", r: "\r", "\\": "\\" } as Record<string, string>)[
        next ?? ""
      ];
    if (replacement === undefined) {
      return { ok: false, reason: `"${raw}" contains an invalid escape` };
    }
    out += replacement;
  }
  return { ok: true, value: out };
}

/** Reads a `;`-separated list of integers as `g_key_file_get_integer_list`. */
export function readIntegerList(raw: string): ValueResult<number[]> {
  const list = readList(raw);
  if (!list.ok) return list;
  const values: number[] = [];
  for (const item of list.value) {
    if (item.trim() === "") {
      return { ok: false, reason: `"${raw}" has an empty item between two ';'` };
    }
    const parsed = readInteger(item);
    if (!parsed.ok) return parsed;
    if (parsed.ignoredText !== undefined) {
      return { ok: false, reason: `"${item.trim()}" in "${raw}" is not an integer` };
    }
    values.push(parsed.value);
  }
  return { ok: true, value: values };
}
