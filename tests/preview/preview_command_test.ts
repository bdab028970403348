import assert from "node:assert/strict";

import {
  parsePreviewArgs,
  PREVIEW_HELP,
  PREVIEW_OPTIONS,
  runPreview,
} from "../../src/commands/preview.ts";
import { ConfigError, InputNotFoundError, UsageError } from "../../src/errors.ts";
import { RULE_COLORS } from "../../src/preview/overlay.ts";
import { grabFrame } from "../../src/preview/snapshot.ts";
import { resolveInput } from "../../src/source/input.ts";
import { REPOSITORY_ROOT } from "../fixtures/run_cli.ts";
import { sharedDataPath } from "../fixtures/shared_data.ts";

const CAR_VIDEO = sharedDataPath("car-detection.mp4");
const CAR_CONFIG = `${REPOSITORY_ROOT}/configs/car-detection.txt`;
const PERSON_VIDEO = sharedDataPath("one-by-one-person-detection.mp4");
const PERSON_CONFIG = `${REPOSITORY_ROOT}/configs/one-by-one-person-detection.txt`;

async function withTempDir(run: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "dskafka-preview-" });
  try {
    await run(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("runPreview() draws the car config's line on the frame", async () => {
  await withTempDir(async (dir) => {
    const output = `${dir}/car.png`;
    const code = await runPreview([
      "--input",
      CAR_VIDEO,
      "--analytics-config",
      CAR_CONFIG,
      "--at",
      "10",
      "-o",
      output,
    ]);
    const drawn = (await grabFrame(await resolveInput(output))).image;
    const plain = (await grabFrame(await resolveInput(CAR_VIDEO), { atSeconds: 10 })).image;

    assert.equal(code, 0);
    assert.equal(drawn.width, 768);
    assert.equal(drawn.height, 432);
    // Both labels share the line y=216 from x=8 to 760; Down is drawn last, in the second colour.
    assert.deepEqual(drawn.pixel(100, 216), RULE_COLORS[1]);
    assert.deepEqual(drawn.pixel(700, 216), RULE_COLORS[1]);
    assert.deepEqual(drawn.pixel(4, 216), plain.pixel(4, 216), "the segment starts at x=8");
    assert.deepEqual(drawn.pixel(200, 300), plain.pixel(200, 300), "far from every rule");
    // The Up arrow points at y=170 and the Down arrow at y=260, both at x=384. The Down
    // shaft covers the Up shaft, so only the Up head shows its colour beside the shaft.
    assert.deepEqual(drawn.pixel(381, 178), RULE_COLORS[0]);
    assert.deepEqual(drawn.pixel(381, 252), RULE_COLORS[1]);
  });
});

Deno.test("runPreview() draws the person config's two lines", async () => {
  await withTempDir(async (dir) => {
    const output = `${dir}/person.png`;
    await runPreview(["-i", PERSON_VIDEO, "--analytics-config", PERSON_CONFIG, "-o", output]);
    const drawn = (await grabFrame(await resolveInput(output))).image;

    // In: y=410 from x=96 to 600. Out: x=640 from y=120 to 431.
    assert.deepEqual(drawn.pixel(200, 410), RULE_COLORS[0]);
    assert.deepEqual(drawn.pixel(640, 200), RULE_COLORS[1]);
  });
});

Deno.test("runPreview() writes nothing for a missing input", async () => {
  await withTempDir(async (dir) => {
    const output = `${dir}/missing.png`;
    await assert.rejects(
      runPreview(["-i", `${dir}/nothing.mp4`, "--analytics-config", CAR_CONFIG, "-o", output]),
      InputNotFoundError,
    );
    await assert.rejects(Deno.stat(output), Deno.errors.NotFound);
  });
});

Deno.test("runPreview() reports an invalid config before decoding", async () => {
  await withTempDir(async (dir) => {
    const config = `${dir}/bad.txt`;
    await Deno.writeTextFile(config, "[property]\nenable=1\n");
    await assert.rejects(
      runPreview(["-i", CAR_VIDEO, "--analytics-config", config, "-o", `${dir}/out.png`]),
      ConfigError,
    );
  });
});

Deno.test("runPreview() names an output path that cannot be written", async () => {
  await assert.rejects(
    runPreview([
      "-i",
      CAR_VIDEO,
      "--analytics-config",
      CAR_CONFIG,
      "-o",
      "/nonexistent/dir/out.png",
    ]),
    (error: unknown) => {
      assert.ok(error instanceof UsageError);
      assert.match(error.message, /--output "\/nonexistent\/dir\/out.png" cannot be written/);
      return true;
    },
  );
});

Deno.test("parsePreviewArgs() rejects missing and invalid options", () => {
  const base = ["-i", "a.mp4", "--analytics-config", "c.txt", "-o", "p.png"];
  const cases: [string[], RegExp][] = [
    [["--analytics-config", "c.txt", "-o", "p.png"], /--input is missing/],
    [["-i", "a.mp4", "-o", "p.png"], /--analytics-config is missing/],
    [["-i", "a.mp4", "--analytics-config", "c.txt"], /--output is missing/],
    [[...base, "--at=-3"], /--at "-3" is invalid/],
    [[...base, "--at", "ten"], /--at "ten" is invalid/],
    [[...base, "--stream", "1.5"], /--stream "1.5" is invalid/],
    [[...base, "--timeout", "0"], /--timeout "0" is invalid/],
    [[...base, "--frames", "3"], /Unknown option '--frames'.*see dskafka preview --help/],
    [[...base, "extra"], /unexpected argument "extra"/],
  ];
  for (const [args, message] of cases) {
    assert.throws(() => parsePreviewArgs(args), (error: unknown) => {
      assert.ok(error instanceof UsageError, `${args.join(" ")}: ${error}`);
      assert.match(error.message, message);
      return true;
    });
  }
});

Deno.test("parsePreviewArgs() applies the defaults", () => {
  const options = parsePreviewArgs(["-i", "a.mp4", "--analytics-config", "c.txt", "-o", "p.png"]);

  assert.deepEqual(options, {
    input: "a.mp4",
    analyticsConfig: "c.txt",
    output: "p.png",
    atSeconds: 0,
    streamId: 0,
    timeoutMs: 30_000,
  });
});

Deno.test("preview help lists every option", () => {
  for (const [name, option] of Object.entries(PREVIEW_OPTIONS)) {
    assert.ok(PREVIEW_HELP.includes(`--${name}`), `--${name} is missing from the help`);
    if ("short" in option) {
      assert.ok(PREVIEW_HELP.includes(`-${option.short}, --${name}`), `-${option.short}`);
    }
  }
});
