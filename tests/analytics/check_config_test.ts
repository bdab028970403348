import assert from "node:assert/strict";
import { runCheckConfig } from "../../src/commands/check_config.ts";
import { ExitCode } from "../../src/errors.ts";

async function check(argv: string[]): Promise<{ code: number; lines: string[]; text: string }> {
  const lines: string[] = [];
  const code = await runCheckConfig(argv, (line) => lines.push(line));
  return { code, lines, text: lines.join("\n") };
}

async function withConfig<T>(text: string, fn: (path: string) => Promise<T>): Promise<T> {
  const path = await Deno.makeTempFile({ suffix: ".txt" });
  try {
    await Deno.writeTextFile(path, text);
    return await fn(path);
  } finally {
    await Deno.remove(path);
  }
}

const CONFIG = `[property]
enable=1
config-width=1280
config-height=720

[line-crossing-stream-0]
enable=1
line-crossing-Entry=600;300;700;300;640;100;640;650
class-id=0;2
mode=fast

[roi-filtering-stream-0]
enable=1
roi-Left=0;0;640;0;640;720;0;720
inverse-roi=1

[overcrowding-stream-1]
enable=1
roi-Center=427;240;853;240;853;480;427;480
object-threshold=2

[direction-detection-stream-0]
enable=1
direction-Up=100;650;100;450
`;

Deno.test("runCheckConfig() describes lines, ROIs, thresholds and defaults per stream", async () => {
  await withConfig(CONFIG, async (path) => {
    const { code, text, lines } = await check([path]);
    assert.equal(code, ExitCode.Ok);
    assert.match(text, /nvdsanalytics config for a 1280x720 frame/);
    assert.match(text, /^stream 0:$/m);
    assert.match(text, /^stream 1:$/m);
    assert.match(
      text,
      /line Entry \(line 8\): from \(640,100\) to \(640,650\); counts objects moving left to right \(arrow \(600,300\) to \(700,300\)\)/,
    );
    assert.match(text, /anywhere on the infinite line through it \(extended=1\); mode loose/);
    assert.match(text, /classes 0, 2/);
    assert.match(
      text,
      /ROI Left \(line 14\): 4-point polygon .*; counts objects outside it \(inverse-roi=1\); all classes/,
    );
    assert.match(
      text,
      /overcrowding Center .* overcrowded from 2 objects inside \(object-threshold=2\)/,
    );
    assert.match(text, /direction Up \(line 24\): objects moving bottom to top \(up\)/);
    assert.match(text, /\[line-crossing-stream-0\] extended=1/);
    assert.match(text, /\[property\] .*obj-cnt-win-in-ms=50/);
    assert.match(text, /warnings \(1\):/);
    assert.match(
      text,
      new RegExp(`${path}:10: unknown mode "fast"; nvdsanalytics uses loose instead`),
    );
    assert.equal(lines.at(-1), `${path}: usable, with 1 warning`);
  });
});

Deno.test("runCheckConfig() --frame-size shows the geometry scaled to the frame", async () => {
  await withConfig(CONFIG, async (path) => {
    const { code, text } = await check([path, "--frame-size", "1920x1080"]);
    assert.equal(code, ExitCode.Ok);
    assert.match(text, /frames are 1920x1080: geometry scaled by 1\.5 in x, 1\.5 in y/);
    assert.match(text, /from \(640,100\)→\(960,150\) to \(640,650\)→\(960,975\)/);
  });
});

Deno.test("runCheckConfig() returns InvalidConfig with file, line and key for an unusable config", async () => {
  await withConfig(
    CONFIG.replace("roi-Left=0;0;640;0;640;720;0;720", "roi-Left=0;0;640;0;640;720;0"),
    async (path) => {
      const { code, lines } = await check([path]);
      assert.equal(code, ExitCode.InvalidConfig);
      assert.equal(
        lines[0],
        `error: ${path}:14: [roi-filtering-stream-0] roi-Left: has 7 values, an odd count, but a polygon is a list of x;y pairs; remove the stray value or add the missing one`,
      );
      assert.equal(lines[1], `${path}: not usable`);
    },
  );
});

Deno.test("runCheckConfig() reports a missing file as an invalid config", async () => {
  const { code, lines } = await check(["/nonexistent/analytics.txt"]);
  assert.equal(code, ExitCode.InvalidConfig);
  assert.match(
    lines[0],
    /^error: \/nonexistent\/analytics\.txt: analytics config not found; check the path/,
  );
});

Deno.test("runCheckConfig() rejects bad usage", async () => {
  assert.equal((await check([])).code, ExitCode.Usage);
  assert.equal((await check(["a.txt", "b.txt"])).code, ExitCode.Usage);
  const badSize = await check(["a.txt", "--frame-size", "1920*1080"]);
  assert.equal(badSize.code, ExitCode.Usage);
  assert.match(badSize.lines[0], /--frame-size "1920\*1080" is not WIDTHxHEIGHT/);
  const unknown = await check(["a.txt", "--frames", "3"]);
  assert.equal(unknown.code, ExitCode.Usage);
  assert.match(unknown.lines[0], /^error: .*--frames/);
  const help = await check(["--help"]);
  assert.equal(help.code, ExitCode.Ok);
  assert.match(help.lines[0], /^usage: dskafka check-config FILE/);
});

Deno.test("runCheckConfig() says when analytics are disabled", async () => {
  await withConfig("[property]\nenable=0\nconfig-width=1920\nconfig-height=1080", async (path) => {
    const { code, text } = await check([path]);
    assert.equal(code, ExitCode.Ok);
    assert.match(text, /enable=0: nvdsanalytics passes frames through; no analytics at all/);
    assert.match(text, /no stream groups/);
  });
});
