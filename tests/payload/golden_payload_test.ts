/**
 * The TypeScript message builder against the golden payload files that the C writer of
 * the nvmsgbroker branch is tested with (`cshim/tests/payload_json_test.c`): both must
 * produce these exact bytes.
 */
import assert from "node:assert/strict";

import {
  buildCaseMessage,
  buildSequenceMessages,
  MESSAGE_CASES,
  PAYLOAD_FIXTURES,
  SEQUENCE_CASES,
  SEQUENCE_FIXTURES,
} from "../fixtures/payloads/generate.ts";
import type { MessageCase, SequenceCase } from "../fixtures/payloads/generate.ts";
import { assertValidMessage } from "../fixtures/message_schema.ts";

/** Returns the case names of the `*.json` input files in `directory`. */
async function inputNames(directory: URL): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(directory)) {
    if (!entry.isFile || !entry.name.endsWith(".json") || entry.name.endsWith(".expected.json")) {
      continue;
    }
    names.push(entry.name.slice(0, -".json".length));
  }
  return names.sort();
}

async function readJson<T>(url: URL): Promise<T> {
  return JSON.parse(await Deno.readTextFile(url)) as T;
}

Deno.test("golden payloads: the input files are the generator's cases", async () => {
  assert.deepEqual(await inputNames(PAYLOAD_FIXTURES), Object.keys(MESSAGE_CASES).sort());
  assert.deepEqual(await inputNames(SEQUENCE_FIXTURES), Object.keys(SEQUENCE_CASES).sort());

  for (const [name, input] of Object.entries(MESSAGE_CASES)) {
    assert.deepEqual(await readJson(new URL(`${name}.json`, PAYLOAD_FIXTURES)), input, name);
  }
  for (const [name, input] of Object.entries(SEQUENCE_CASES)) {
    assert.deepEqual(await readJson(new URL(`${name}.json`, SEQUENCE_FIXTURES)), input, name);
  }
});

for (const name of Object.keys(MESSAGE_CASES)) {
  Deno.test(`buildMessage() matches golden payload ${name}`, async () => {
    const input = await readJson<MessageCase>(new URL(`${name}.json`, PAYLOAD_FIXTURES));
    const expected = await Deno.readTextFile(new URL(`${name}.expected.json`, PAYLOAD_FIXTURES));

    assert.equal(buildCaseMessage(input), expected);
  });
}

for (const name of Object.keys(SEQUENCE_CASES)) {
  Deno.test(`DeviceCounts matches golden sequence ${name}`, async () => {
    const input = await readJson<SequenceCase>(new URL(`${name}.json`, SEQUENCE_FIXTURES));
    const expected = await Deno.readTextFile(new URL(`${name}.expected.jsonl`, SEQUENCE_FIXTURES));
    const messages = buildSequenceMessages(input);

    assert.ok(messages.length > 0, "the sequence emits no message");
    assert.equal(messages.map((message) => `${message}\n`).join(""), expected);
  });
}

// Cases left out of the schema check, with the reason:
// - timestamps outside the years 0000–9999 are valid for toISOString but not for the
//   schema's four-digit year pattern;
// - "tricky-labels" has line labels with \n, \r, U+2028 and U+2029, which the schema's
//   `^lc_curr_.+$` does not match because `.` excludes line terminators.
// TODO: the schema's lc_curr_/lc_cum_ patterns should accept any label ("[\s\S]+").
const OUTSIDE_SCHEMA = new Set([
  "large-numbers",
  "timestamp-before-epoch",
  "timestamp-earliest",
  "tricky-labels",
]);

Deno.test("golden payloads match the message schema", async () => {
  const checked: string[] = [];
  for (const name of Object.keys(MESSAGE_CASES)) {
    if (OUTSIDE_SCHEMA.has(name)) continue;
    const text = await Deno.readTextFile(new URL(`${name}.expected.json`, PAYLOAD_FIXTURES));
    assertValidMessage(JSON.parse(text));
    checked.push(name);
  }
  for (const name of Object.keys(SEQUENCE_CASES)) {
    const text = await Deno.readTextFile(new URL(`${name}.expected.jsonl`, SEQUENCE_FIXTURES));
    for (const line of text.trimEnd().split("\n")) assertValidMessage(JSON.parse(line));
    checked.push(`sequences/${name}`);
  }
  assert.ok(checked.length >= 8, `only ${checked.length} files were checked`);
});
