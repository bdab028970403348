/**
 * Runs that end with messages in the spool: a broker that never responds, and a CLI
 * killed with SIGKILL while it spools. The next run with the same spool directory and a
 * broker that responds sends every message the first run accepted, first and in order.
 */
import assert from "node:assert/strict";

import { ExitCode } from "../../src/errors.ts";
import { generateVideo, SCENARIOS } from "../fixtures/generate_video.ts";
import { runCli } from "../fixtures/run_cli.ts";
import { BROKER, closedPort, freshTopic, readTopic, requireBroker } from "../kafka/_broker.ts";
import { CliProcess } from "./_cli_process.ts";
import { assertInOrder, decodeDelivered, firstOccurrences, summaryMessages } from "./_delivery.ts";

const EMIT_FRAMES = 15;
const STEP_LIMIT_MS = 120_000;

const scratch = await Deno.makeTempDir({ prefix: "dskafka-spool-recovery-" });
const first = await generateVideo(SCENARIOS.two_way, `${scratch}/video`);
const second = await generateVideo(SCENARIOS.with_audio, `${scratch}/video`);

// Runs the second video with device id "next-run" against the shared broker.
async function deliverWithNextRun(topic: string, spoolDir: string) {
  const run = await runCli([
    "--input",
    second.videoPath,
    "--analytics-config",
    second.analyticsConfigPath,
    "--device-id",
    "next-run",
    "--emit",
    `frames:${EMIT_FRAMES}`,
    "--kafka",
    BROKER,
    "--topic",
    topic,
    "--create-topic",
    "--spool-dir",
    spoolDir,
  ]);
  assert.equal(run.code, ExitCode.Ok, run.stderr);
  assert.match(run.stderr, /the spool contains messages of an earlier run: they are sent first/);
  assert.match(run.stderr, /\[spool\] closed .* spooled=0 dropped=0/);
  return decodeDelivered(await readTopic(topic));
}

Deno.test("dskafka spools a run without broker, and the next run sends it", async () => {
  await requireBroker();
  const topic = freshTopic("spooled-run");
  const spoolDir = `${scratch}/spool-down`;

  const down = await runCli([
    "--input",
    first.videoPath,
    "--analytics-config",
    first.analyticsConfigPath,
    "--emit",
    `frames:${EMIT_FRAMES}`,
    "--kafka",
    `127.0.0.1:${closedPort()}`,
    "--topic",
    topic,
    "--spool-dir",
    spoolDir,
  ]);

  assert.equal(down.code, ExitCode.Spooled, down.stderr);
  const accepted = summaryMessages(down.stderr, "two_way");
  assert.equal(accepted, first.groundTruth.frames / EMIT_FRAMES);
  assert.match(
    down.stderr,
    new RegExp(`messages remain in the spool: the next run .* spooled=${accepted} `),
  );

  const delivered = await deliverWithNextRun(topic, spoolDir);
  const spooled = firstOccurrences(delivered, "two_way");
  assert.deepEqual(
    spooled.map((message) => message.frameNumber),
    Array.from({ length: accepted }, (_, index) => (index + 1) * EMIT_FRAMES),
  );
  assert.equal(delivered.filter((m) => m.deviceId === "two_way").length, accepted, "repeats");
  assert.equal(spooled.at(-1)?.counts.lc_cum_Down, 3);

  const lastSpooled = delivered.findLastIndex((m) => m.deviceId === "two_way");
  const firstNew = delivered.findIndex((m) => m.deviceId === "next-run");
  assert.ok(lastSpooled < firstNew, "the spool was not sent before the new messages");
  assertInOrder(firstOccurrences(delivered, "next-run"), "next-run");
});

Deno.test({
  name: "dskafka killed with SIGKILL while spooling loses no accepted message",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await requireBroker();
    const topic = freshTopic("killed-run");
    const spoolDir = `${scratch}/spool-killed`;

    const killed = CliProcess.start([
      "--input",
      first.videoPath,
      "--analytics-config",
      first.analyticsConfigPath,
      "--realtime",
      "--emit",
      `frames:${EMIT_FRAMES}`,
      "--kafka",
      `127.0.0.1:${closedPort()}`,
      "--topic",
      topic,
      "--spool-dir",
      spoolDir,
      "--log-level",
      "debug",
    ]);
    await killed.waitFor(/\[spool\] message spooled/, STEP_LIMIT_MS, 4);
    killed.kill("SIGKILL");
    const exit = await killed.exit(STEP_LIMIT_MS);
    assert.equal(exit.code, 128 + 9);
    assert.equal(exit.stderr.match(/stream summary/), null, "the run ended before the kill");

    const accepted = exit.stderr.split("\n")
      .filter((line) => line.includes("[spool] message spooled"))
      .map((line) => / messageId=(\S+)/.exec(line)![1]);
    assert.ok(accepted.length >= 4, `${accepted.length} messages accepted`);

    const delivered = await deliverWithNextRun(topic, spoolDir);
    const spooled = firstOccurrences(delivered, "two_way");
    const deliveredIds = spooled.map((message) => message.messageId);
    for (const id of accepted) {
      assert.ok(deliveredIds.includes(id), `accepted message ${id} did not reach Kafka`);
    }
    assert.deepEqual(deliveredIds.slice(0, accepted.length), accepted, "spool order");
    assertInOrder(spooled, "two_way");
    for (const message of spooled) assert.equal(message.frameNumber % EMIT_FRAMES, 0);
  },
});

Deno.test({
  name: "spool recovery scratch files are removed",
  fn: async () => await Deno.remove(scratch, { recursive: true }),
});
