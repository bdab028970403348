/**
 * The broker dies three times in the middle of one run: each time it is killed with
 * SIGKILL, stays down for a few seconds and starts again. Afterwards the topic contains
 * every message the run accepted, each device's messages in order, and repeats only of
 * the same messageid.
 */
import assert from "node:assert/strict";

import { ExitCode } from "../../src/errors.ts";
import { generateVideo, SCENARIOS } from "../fixtures/generate_video.ts";
import { freshTopic, readTopic } from "../kafka/_broker.ts";
import { CliProcess, delay } from "./_cli_process.ts";
import {
  assertCumulativeNeverFalls,
  assertInOrder,
  decodeDelivered,
  firstOccurrences,
  summaryMessages,
} from "./_delivery.ts";
import { PrivateBroker } from "./_private_broker.ts";

const OUTAGES = 3;
const DOWN_MS = 4_000;
const EMIT_FRAMES = 15;

// Bounds that only keep a broken run from hanging the test. No check depends on them.
const STEP_LIMIT_MS = 120_000;
const EXIT_LIMIT_MS = 120_000;

async function recordCount(topic: string, broker: string): Promise<number> {
  return (await readTopic(topic, broker)).length;
}

// Waits until the topic contains more than `count` records.
async function waitForMoreRecords(topic: string, broker: string, count: number) {
  for (let attempt = 0; attempt < 120; attempt++) {
    if (await recordCount(topic, broker) > count) return;
    await delay(1_000);
  }
  throw new Error(`topic ${topic} stayed at ${count} records`);
}

Deno.test({
  name: "dskafka delivers every message through three broker kills",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const directory = await Deno.makeTempDir({ prefix: "dskafka-outage-" });
    const broker = await PrivateBroker.start();
    let cli: CliProcess | undefined;

    try {
      const video = await generateVideo(SCENARIOS.two_way, `${directory}/video`);
      const topic = freshTopic("outage");
      cli = CliProcess.start([
        "--input",
        video.videoPath,
        "--analytics-config",
        video.analyticsConfigPath,
        "--loop",
        "--realtime",
        "--emit",
        `frames:${EMIT_FRAMES}`,
        "--kafka",
        broker.address,
        "--topic",
        topic,
        "--create-topic",
        "--spool-dir",
        `${directory}/spool`,
      ]);
      await cli.waitFor(/stream started/, STEP_LIMIT_MS);
      await waitForMoreRecords(topic, broker.address, 2);

      for (let outage = 1; outage <= OUTAGES; outage++) {
        await broker.run("kill");
        await cli.waitFor(/Kafka did not take a message: spooling/, STEP_LIMIT_MS, outage);
        await delay(DOWN_MS);
        assert.equal(cli.count(/stream summary/), 0, `the run ended during outage ${outage}`);

        await broker.run("start");
        await cli.waitFor(/spool is empty: sending straight to Kafka again/, STEP_LIMIT_MS, outage);
      }

      await waitForMoreRecords(topic, broker.address, await recordCount(topic, broker.address));
      cli.kill("SIGTERM");
      const run = await cli.exit(EXIT_LIMIT_MS);
      cli = undefined;

      assert.equal(run.code, ExitCode.Interrupted, run.stderr);
      assert.match(run.stderr, /\[spool\] closed .* spooled=0 dropped=0/);

      const accepted = summaryMessages(run.stderr, "two_way");
      const delivered = decodeDelivered(await readTopic(topic, broker.address));
      const firsts = firstOccurrences(delivered, "two_way");
      assert.equal(firsts.length, accepted, "distinct messages in Kafka = messages accepted");
      assertInOrder(firsts, "two_way");
      assertCumulativeNeverFalls(firsts, "two_way");

      // frames:15 emits at every 15th frame, and only the final message may fall between.
      const frames = firsts.map((message) => message.frameNumber);
      const expected = Array.from(
        { length: Math.floor(frames.at(-1)! / EMIT_FRAMES) },
        (_, index) => (index + 1) * EMIT_FRAMES,
      );
      if (frames.at(-1)! % EMIT_FRAMES !== 0) expected.push(frames.at(-1)!);
      assert.deepEqual(frames, expected, "a message is missing");
    } finally {
      if (cli !== undefined) {
        cli.kill("SIGKILL");
        await cli.exit(EXIT_LIMIT_MS).catch(() => undefined);
      }
      await broker.remove();
      await Deno.remove(directory, { recursive: true });
    }
  },
});
