import assert from "node:assert/strict";
import {
  type ConfigWarning,
  loadAnalyticsConfig,
  parseAnalyticsConfig,
} from "../../src/analytics/config.ts";
import { ConfigError, ExitCode } from "../../src/errors.ts";

const PROPERTY = "[property]\nenable=1\nconfig-width=1920\nconfig-height=1080\n";

/** Parses text expected to fail, and returns the ConfigError. */
function rejects(text: string, path = "cfg.txt"): ConfigError {
  try {
    parseAnalyticsConfig(text, path);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${error}`);
    assert.equal(error.exitCode, ExitCode.InvalidConfig);
    assert.equal(error.path, path);
    assert.ok(!error.message.includes("\n"), "the message is one line");
    return error;
  }
  assert.fail("the config was accepted");
}

function warningAbout(warnings: ConfigWarning[], pattern: RegExp): ConfigWarning {
  const found = warnings.find((w) => pattern.test(w.message));
  assert.ok(
    found,
    `no warning matching ${pattern}; got:\n${warnings.map((w) => w.message).join("\n")}`,
  );
  return found;
}

// --- real configs -----------------------------------------------------------------------

Deno.test("parseAnalyticsConfig() reads a line label with a hyphen and class-id=-1", () => {
  const text = PROPERTY + "\n[line-crossing-stream-0]\nenable=1\n" +
    "line-crossing-entry-0=789;672;1084;900;851;773;1203;732\nclass-id=-1\nextended=0\nmode=balanced\n";
  const { config, warnings } = parseAnalyticsConfig(text, "cfg.txt");
  const [line] = config.streams[0].lineCrossings;
  assert.equal(line.label, "entry-0");
  assert.deepEqual(line.classIds, [-1]);
  assert.deepEqual(line.direction, [{ x: 789, y: 672 }, { x: 1084, y: 900 }]);
  assert.deepEqual(line.segment, [{ x: 851, y: 773 }, { x: 1203, y: 732 }]);
  assert.equal(line.extended, false);
  assert.equal(line.mode, "balanced");
  assert.deepEqual(warnings, []);
});

Deno.test("parseAnalyticsConfig() reads a file with no header comment and no final newline", () => {
  const text = "[property]\nenable=1\nconfig-width=1280\nconfig-height=720\n\n" +
    "[roi-filtering-stream-0]\nenable=1\nroi-A=0;0;100;0;100;100;0;100\ninverse-roi=0";
  const { config } = parseAnalyticsConfig(text, "cfg.txt");
  assert.equal(config.configWidth, 1280);
  assert.equal(config.streams[0].roiFilters[0].inverse, false);
  assert.equal(config.streams[0].roiFilters[0].polygon.length, 4);
});

Deno.test("parseAnalyticsConfig() rejects a 9-value ROI with file, line and key", () => {
  const text = PROPERTY +
    "\n[roi-filtering-stream-0]\nenable=1\nroi-RF=295;643;579;634;642;913;56;828;100\n";
  const error = rejects(text);
  assert.equal(error.line, 8);
  assert.equal(error.key, "roi-RF");
  assert.match(
    error.message,
    /^cfg\.txt:8: \[roi-filtering-stream-0\] roi-RF: has 9 values, an odd count/,
  );
  assert.match(error.message, /remove the stray value or add the missing one/);
});

Deno.test("parseAnalyticsConfig() warns about a line at y=1100 in a 1920x1080 config", () => {
  const text = PROPERTY + "\n[line-crossing-stream-0]\nenable=1\n" +
    "line-crossing-Low=900;1050;1020;1150;200;1100;1700;1100\n";
  const { config, warnings } = parseAnalyticsConfig(text, "cfg.txt");
  assert.equal(config.streams[0].lineCrossings[0].segment[0].y, 1100);
  const warning = warningAbout(warnings, /outside the config frame 1920x1080/);
  assert.equal(warning.line, 8);
  assert.match(warning.message, /\(1020,1150\), \(200,1100\), \(1700,1100\)/);
  assert.match(warning.message, /scales and uses it as given/);
});

Deno.test("parseAnalyticsConfig() merges the same [line-crossing-stream-0] group given twice, with a warning", () => {
  const text = PROPERTY +
    "\n[line-crossing-stream-0]\nenable=1\nline-crossing-A=900;600;1020;600;960;300;960;900\nmode=strict\n" +
    "\n[line-crossing-stream-0]\nenable=1\nline-crossing-B=400;600;520;600;460;300;460;900\nmode=balanced\n";
  const { config, warnings } = parseAnalyticsConfig(text, "cfg.txt");
  const lines = config.streams[0].lineCrossings;
  assert.deepEqual(lines.map((l) => l.label), ["A", "B"]);
  // GKeyFile returns the last value of a repeated key: both lines get mode=balanced.
  assert.deepEqual(lines.map((l) => l.mode), ["balanced", "balanced"]);
  const group = warningAbout(warnings, /appears 2 times \(lines 6, 11\)/);
  assert.equal(group.line, 11);
  assert.match(group.message, /merges them into one group/);
  warningAbout(warnings, /key mode is given 2 times .* the last value \(line 14\) is used/);
});

// --- defaults ---------------------------------------------------------------------------

Deno.test("parseAnalyticsConfig() applies nvdsanalytics' defaults", () => {
  const text = PROPERTY +
    "\n[line-crossing-stream-0]\nenable=1\nline-crossing-A=900;600;1020;600;960;300;960;900\n" +
    "\n[overcrowding-stream-0]\nenable=1\nroi-C=0;0;10;0;10;10\n" +
    "\n[direction-detection-stream-0]\nenable=1\ndirection-E=0;0;10;0\n";
  const { config, warnings } = parseAnalyticsConfig(text, "cfg.txt");
  assert.deepEqual(warnings, []);
  const stream = config.streams[0];
  assert.equal(stream.lineCrossings[0].extended, true);
  assert.equal(stream.lineCrossings[0].mode, "loose");
  assert.deepEqual(stream.lineCrossings[0].classIds, []);
  assert.equal(stream.overcrowding[0].objectThreshold, 1);
  assert.equal(stream.overcrowding[0].timeThresholdMs, 2000);
  assert.equal(stream.directions[0].mode, "balanced");
  assert.equal(config.objectCountWindowMs, 50);
  assert.equal(config.osdMode, 2);
  assert.equal(config.displayFontSize, 12);
  assert.equal(config.displayObjectCount, false);
  const defaulted = config.defaults.map((d) => `${d.group} ${d.key}=${d.value}`);
  for (
    const expected of [
      "property obj-cnt-win-in-ms=50",
      "line-crossing-stream-0 extended=1",
      "line-crossing-stream-0 mode=loose",
      "line-crossing-stream-0 class-id=-1",
      "overcrowding-stream-0 object-threshold=1",
    ]
  ) assert.ok(defaulted.includes(expected), `${expected} in ${defaulted.join(", ")}`);
});

Deno.test("parseAnalyticsConfig() reads obj-cnt-win-in-ms and the other [property] keys", () => {
  const text = PROPERTY +
    "osd-mode=0\ndisplay-font-size=20\nobj-cnt-win-in-ms=1000\ndisplay-obj-cnt=1\n";
  const { config } = parseAnalyticsConfig(text, "cfg.txt");
  assert.equal(config.objectCountWindowMs, 1000);
  assert.equal(config.osdMode, 0);
  assert.equal(config.displayFontSize, 20);
  assert.equal(config.displayObjectCount, true);
});

Deno.test("parseAnalyticsConfig() disables a group without enable, with a warning", () => {
  const { config, warnings } = parseAnalyticsConfig(
    PROPERTY + "\n[roi-filtering-stream-0]\nroi-A=0;0;100;0;100;100\n",
    "cfg.txt",
  );
  assert.equal(config.streams[0].roiFilters[0].enabled, false);
  warningAbout(warnings, /has no enable key, so nvdsanalytics disables the whole group/);
});

Deno.test("parseAnalyticsConfig() keeps GKeyFile syntax: comments, spaces, trailing ';', CRLF", () => {
  const text =
    "# nvdsanalytics\r\n[property]\r\n  enable = 1\r\nconfig-width=1920\r\nconfig-height=1080\r\n" +
    "[roi-filtering-stream-2]\r\nenable=true\r\nclass-id=0;2;\r\nroi-A=0;0; 100;0;100;100;\r\n";
  const { config } = parseAnalyticsConfig(text, "cfg.txt");
  const roi = config.streams[0];
  assert.equal(roi.streamId, 2);
  assert.deepEqual(roi.roiFilters[0].classIds, [0, 2]);
  assert.deepEqual(roi.roiFilters[0].polygon, [{ x: 0, y: 0 }, { x: 100, y: 0 }, {
    x: 100,
    y: 100,
  }]);
});

// --- strict checks ----------------------------------------------------------------------

Deno.test("parseAnalyticsConfig() rejects a line with other than 8 values", () => {
  for (const values of ["900;600;1020;600;960;300;960", "900;600;1020;600;960;300;960;900;5"]) {
    const count = values.split(";").length;
    const error = rejects(
      PROPERTY + `[line-crossing-stream-0]\nenable=1\nline-crossing-Door=${values}\n`,
    );
    assert.equal(error.key, "line-crossing-Door");
    assert.equal(error.line, 7);
    assert.match(error.message, new RegExp(`has ${count} values, a line needs exactly 8`));
  }
});

Deno.test("parseAnalyticsConfig() rejects negative and non-numeric values", () => {
  let error = rejects(PROPERTY + "[roi-filtering-stream-0]\nenable=1\nroi-A=0;0;100;-5;100;100\n");
  assert.match(
    error.message,
    /cfg\.txt:7: \[roi-filtering-stream-0\] roi-A: coordinate -5 is negative/,
  );
  error = rejects(PROPERTY + "[roi-filtering-stream-0]\nenable=1\nroi-A=0;0;100;abc;100;100\n");
  assert.match(error.message, /roi-A: "abc" is not an integer/);
  error = rejects(
    PROPERTY + "[overcrowding-stream-0]\nenable=1\nroi-A=0;0;1;0;1;1\nobject-threshold=-2\n",
  );
  assert.equal(error.key, "object-threshold");
  assert.match(error.message, /-2 is out of range; use a value at least 0/);
  error = rejects(
    PROPERTY +
      "[line-crossing-stream-0]\nenable=1\nclass-id=0;-3\nline-crossing-A=0;0;0;10;5;5;10;5\n",
  );
  assert.equal(error.key, "class-id");
  assert.match(error.message, /class id -3 is negative/);
  error = rejects("[property]\nenable=yes\nconfig-width=1920\nconfig-height=1080\n");
  assert.equal(error.key, "enable");
  assert.match(error.message, /"yes" is not a boolean \(use 1 or 0\)/);
  error = rejects("[property]\nenable=1\nconfig-width=0\nconfig-height=1080\n");
  assert.equal(error.key, "config-width");
});

Deno.test("parseAnalyticsConfig() rejects a stream suffix that is not a number", () => {
  for (
    const group of ["line-crossing-stream-a", "roi-filtering-stream-", "overcrowding-stream-0x1"]
  ) {
    const error = rejects(PROPERTY + `\n[${group}]\nenable=1\n`);
    assert.equal(error.line, 6);
    assert.match(error.message, /where the stream number belongs; name it \[.*-stream-0\]/);
  }
});

Deno.test("parseAnalyticsConfig() rejects an arrow parallel to its line, and degenerate arrows", () => {
  let error = rejects(
    PROPERTY +
      "[line-crossing-stream-0]\nenable=1\nline-crossing-A=960;300;960;900;960;100;960;1000\n",
  );
  assert.match(error.message, /arrow parallel to its line/);
  assert.equal(error.key, "line-crossing-A");
  error = rejects(
    PROPERTY + "[line-crossing-stream-0]\nenable=1\nline-crossing-A=5;5;5;5;960;100;960;1000\n",
  );
  assert.match(error.message, /arrow of zero length/);
  error = rejects(
    PROPERTY + "[line-crossing-stream-0]\nenable=1\nline-crossing-A=0;5;10;5;960;100;960;100\n",
  );
  assert.match(error.message, /line of zero length/);
  error = rejects(PROPERTY + "[direction-detection-stream-0]\nenable=1\ndirection-N=5;5;5;5\n");
  assert.match(error.message, /direction-N: is an arrow of zero length/);
  error = rejects(PROPERTY + "[direction-detection-stream-0]\nenable=1\ndirection-N=5;5;5\n");
  assert.match(error.message, /has 3 values, a direction needs exactly 4/);
});

Deno.test("parseAnalyticsConfig() rejects structural problems nvdsanalytics rejects", () => {
  assert.match(
    rejects("[roi-filtering-stream-0]\nenable=1\n").message,
    /group \[property\] is missing/,
  );
  assert.match(
    rejects("[property]\nenable=1\nconfig-height=1080\n").message,
    /\[property\] has no config-width key, which nvdsanalytics requires; add config-width=1920/,
  );
  assert.match(
    rejects(PROPERTY + "[line-crossing-stream-0]\nenable=1\n").message,
    /has no line-crossing-<label> key; add one, for example/,
  );
  assert.match(rejects(PROPERTY + "just words\n").message, /cfg\.txt:5: "just words" is neither/);
  assert.match(rejects("enable=1\n[property]\n").message, /comes before any \[group\] header/);
  assert.match(
    rejects(PROPERTY + "[roi-filtering-stream-0]\nenable=1\nroi-A=0;0;10;0\n").message,
    /has 2 points, a polygon needs at least 3/,
  );
  assert.match(
    rejects(PROPERTY + "obj-cnt-win-in-ms=0\n").message,
    /0 is out of range; use a value between 1 and 1000000000/,
  );
});

// --- warnings ---------------------------------------------------------------------------

Deno.test("parseAnalyticsConfig() warns about an unknown mode and uses loose", () => {
  const { config, warnings } = parseAnalyticsConfig(
    PROPERTY + "[line-crossing-stream-0]\nenable=1\nline-crossing-A=0;5;10;5;5;0;5;10\nmode=fast\n",
    "cfg.txt",
  );
  assert.equal(config.streams[0].lineCrossings[0].mode, "loose");
  const warning = warningAbout(warnings, /unknown mode "fast"; nvdsanalytics uses loose instead/);
  assert.equal(warning.line, 8);
  assert.equal(warning.key, "mode");
});

Deno.test("parseAnalyticsConfig() warns about a duplicated ROI label: each object counts twice", () => {
  const text = PROPERTY +
    "[roi-filtering-stream-0]\nenable=1\nroi-Area=0;0;500;0;500;1080;0;1080\n" +
    "roi-Area=0;0;900;0;900;1080;0;1080\n";
  const { config, warnings } = parseAnalyticsConfig(text, "cfg.txt");
  const rois = config.streams[0].roiFilters;
  assert.equal(rois.length, 2);
  assert.deepEqual(rois[0].polygon, rois[1].polygon);
  assert.equal(rois[0].polygon[1].x, 900);
  const warning = warningAbout(warnings, /label Area is defined again \(lines 7 and 8\)/);
  assert.match(warning.message, /counts every object inside it twice in roi_count/);
});

Deno.test("parseAnalyticsConfig() warns about a duplicated line label: the last definition wins", () => {
  const text = PROPERTY + "[line-crossing-stream-0]\nenable=1\n" +
    "line-crossing-Gate=740;540;860;540;800;100;800;1000\nline-crossing-Exit=440;540;560;540;500;100;500;1000\n" +
    "line-crossing-Gate=1340;540;1460;540;1400;100;1400;1000\n";
  const { config, warnings } = parseAnalyticsConfig(text, "cfg.txt");
  const lines = config.streams[0].lineCrossings;
  assert.deepEqual(lines.map((l) => l.label), ["Gate", "Exit"]);
  assert.equal(lines[0].segment[0].x, 1400);
  warningAbout(
    warnings,
    /label Gate is defined again \(lines 7 and 9\): nvdsanalytics keeps one Gate with the last definition/,
  );
});

Deno.test("parseAnalyticsConfig() warns about unknown groups and keys, and trailing text", () => {
  const { warnings } = parseAnalyticsConfig(
    PROPERTY +
      "config-widht=5\n\n[roi-stream-0]\nenable=1\n\n[roi-filtering-stream-0]\nenable=1\n" +
      "roi-A=0;0;10;0;10;10\nthreshold=3\n",
    "cfg.txt",
  );
  warningAbout(warnings, /key config-widht is not an nvdsanalytics key for \[property\]/);
  warningAbout(warnings, /group \[roi-stream-0\] is not an nvdsanalytics group and is ignored/);
  warningAbout(warnings, /key threshold is not an nvdsanalytics key/);

  const trailing = parseAnalyticsConfig(
    "[property]\nenable=1\nconfig-width=1920 # full HD\nconfig-height=1080\n",
    "cfg.txt",
  );
  assert.equal(trailing.config.configWidth, 1920);
  warningAbout(trailing.warnings, /text "# full HD" after 1920 is ignored/);
});

Deno.test("parseAnalyticsConfig() warns when an ROI and an overcrowding region share a label", () => {
  const { warnings } = parseAnalyticsConfig(
    PROPERTY + "[roi-filtering-stream-0]\nenable=1\nroi-Z=0;0;10;0;10;10\n" +
      "[overcrowding-stream-0]\nenable=1\nroi-Z=0;0;20;0;20;20\n",
    "cfg.txt",
  );
  warningAbout(warnings, /label Z names both an ROI \(line 7\) and an overcrowding region/);
});

Deno.test("parseAnalyticsConfig() reads every golden scenario config without errors", async () => {
  const golden = new URL("../../../shared/golden/", import.meta.url);
  let read = 0;
  try {
    for (const entry of Deno.readDirSync(golden)) {
      if (!entry.isDirectory) continue;
      const path = new URL(`${entry.name}/config_nvdsanalytics.txt`, golden).pathname;
      const { config } = await loadAnalyticsConfig(path);
      assert.ok(config.enable, path);
      read++;
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  if (read === 0) console.warn("no golden configs found");
});

Deno.test("loadAnalyticsConfig() names a missing file and what to do", async () => {
  const path = "/nonexistent/dir/analytics.txt";
  await assert.rejects(() => loadAnalyticsConfig(path), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.equal(error.path, path);
    assert.equal(
      error.message,
      `${path}: analytics config not found; check the path, or start from configs/car-detection.txt`,
    );
    return true;
  });
});
