import assert from "node:assert/strict";

import { HELP, OPTIONS } from "../../cli.ts";
import { PREVIEW_HELP, PREVIEW_OPTIONS } from "../../src/commands/preview.ts";
import { REPOSITORY_ROOT } from "../fixtures/run_cli.ts";

type OptionTable = Record<string, { type: string; short?: string }>;

/** Returns whether `text` names `--name` as a whole option, not as the start of a longer one. */
function mentions(text: string, name: string): boolean {
  return new RegExp(`--${name.replace(/[-]/g, "\\-")}(?![\\w-])`).test(text);
}

function missingFrom(text: string, options: OptionTable): string[] {
  return Object.keys(options).filter((name) => !mentions(text, name)).map((name) => `--${name}`);
}

Deno.test("help lists every option of the main command", () => {
  assert.deepEqual(missingFrom(HELP, OPTIONS as OptionTable), []);
});

Deno.test("help gives every short option beside its long form", () => {
  for (const [name, option] of Object.entries(OPTIONS as OptionTable)) {
    if (option.short === undefined) continue;
    assert.ok(
      HELP.includes(`-${option.short}, --${name}`),
      `-${option.short}, --${name} is not in the help`,
    );
  }
});

Deno.test("preview help lists every preview option", () => {
  assert.deepEqual(missingFrom(PREVIEW_HELP, PREVIEW_OPTIONS), []);
});

for (const readme of ["README.md", "README.zh-CN.md"]) {
  Deno.test(`${readme} mentions every option`, async () => {
    const text = await Deno.readTextFile(`${REPOSITORY_ROOT}/${readme}`);

    assert.deepEqual(missingFrom(text, OPTIONS as OptionTable), [], "main command");
    assert.deepEqual(missingFrom(text, PREVIEW_OPTIONS), [], "dskafka preview");
  });
}

Deno.test("cli --help prints the help text", async () => {
  const { code, stdout } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${REPOSITORY_ROOT}/cli.ts`, "--help"],
    stdout: "piped",
    stderr: "null",
  }).output();

  assert.equal(code, 0);
  assert.equal(new TextDecoder().decode(stdout), HELP + "\n");
});
