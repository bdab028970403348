/**
 * The disk spool on the real file system: order, bounds, recovery after torn writes and
 * corruption, the lock and the topic check.
 */
import assert from "node:assert/strict";

import { ExitCode } from "../../src/errors.ts";
import type { OutgoingMessage } from "../../src/sink/sink.ts";
import { Spool } from "../../src/sink/spool.ts";
import { SpoolError, SpoolInterruptedError } from "../../src/sink/spool_errors.ts";

const TOPIC = "spool-test";

function message(sequence: number, payloadBytes = 40): OutgoingMessage {
  const head = JSON.stringify({ sequence });
  return {
    deviceId: `cam-${sequence % 2}`,
    messageId: `m-${sequence}`,
    payload: head + " ".repeat(Math.max(0, payloadBytes - head.length)),
  };
}

async function withDirectory(work: (directory: string) => Promise<void>): Promise<void> {
  const directory = await Deno.makeTempDir({ prefix: "dskafka-spool-" });
  try {
    await work(directory);
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
}

async function readAll(spool: Spool, batchSize = 1000): Promise<string[]> {
  const ids: string[] = [];
  for (;;) {
    const batch = await spool.read(batchSize, 10_000_000);
    if (batch === undefined) return ids;
    ids.push(...batch.messages.map((m) => m.messageId));
    await spool.commit(batch);
  }
}

async function segmentFiles(directory: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(directory)) {
    if (entry.name.startsWith("segment-")) names.push(entry.name);
  }
  return names.sort();
}

Deno.test("Spool read and commit keep append order", async () => {
  await withDirectory(async (directory) => {
    const spool = await Spool.open({ directory, topic: TOPIC });
    for (let i = 0; i < 10; i++) await spool.append([message(i)]);
    assert.equal(spool.pendingMessages, 10);

    const first = await spool.read(3, 1_000_000);
    assert.deepEqual(first?.messages.map((m) => m.messageId), ["m-0", "m-1", "m-2"]);
    assert.deepEqual(first?.messages[1], message(1));
    await spool.commit(first!);
    assert.equal(spool.pendingMessages, 7);

    assert.deepEqual(await readAll(spool, 4), ["m-3", "m-4", "m-5", "m-6", "m-7", "m-8", "m-9"]);
    assert.equal(spool.pendingMessages, 0);
    assert.equal(spool.pendingBytes, 0);
    assert.equal(await spool.read(10, 1_000_000), undefined);
    await spool.close();
  });
});

Deno.test("Spool reopened resumes after the committed messages", async () => {
  await withDirectory(async (directory) => {
    const first = await Spool.open({ directory, topic: TOPIC });
    await first.append([0, 1, 2, 3, 4].map((i) => message(i)));
    const batch = await first.read(2, 1_000_000);
    await first.commit(batch!);
    await first.close();

    const second = await Spool.open({ directory, topic: TOPIC });
    assert.equal(second.pendingMessages, 3);
    await second.append([message(5)]);
    assert.deepEqual(await readAll(second), ["m-2", "m-3", "m-4", "m-5"]);
    await second.close();
    assert.deepEqual(await segmentFiles(directory), [], "a drained spool keeps no segment");

    const third = await Spool.open({ directory, topic: TOPIC });
    assert.equal(third.pendingMessages, 0);
    await third.close();
  });
});

Deno.test("Spool reopened after a torn write cuts off the partial record", async () => {
  await withDirectory(async (directory) => {
    const first = await Spool.open({ directory, topic: TOPIC });
    await first.append([0, 1, 2].map((i) => message(i)));
    await first.close();

    const [segment] = await segmentFiles(directory);
    const path = `${directory}/${segment}`;
    const intact = await Deno.readFile(path);
    const torn = new Uint8Array(intact.length + 20);
    torn.set(intact);
    torn.set([200, 0, 0, 0, 1, 2, 3, 4, 9, 9], intact.length);
    await Deno.writeFile(path, torn);

    const second = await Spool.open({ directory, topic: TOPIC });
    assert.equal(second.pendingMessages, 3);
    assert.equal((await Deno.stat(path)).size, intact.length);
    await second.append([message(3)]);
    assert.deepEqual(await readAll(second), ["m-0", "m-1", "m-2", "m-3"]);
    await second.close();
  });
});

Deno.test("Spool reopened after corruption keeps the records before it", async () => {
  await withDirectory(async (directory) => {
    const first = await Spool.open({ directory, topic: TOPIC });
    for (let i = 0; i < 3; i++) await first.append([message(i)]);
    await first.close();

    const [segment] = await segmentFiles(directory);
    const path = `${directory}/${segment}`;
    const bytes = await Deno.readFile(path);
    const recordBytes = bytes.length / 3;
    bytes[recordBytes + 20] ^= 0xff;
    await Deno.writeFile(path, bytes);

    const second = await Spool.open({ directory, topic: TOPIC });
    assert.equal(second.pendingMessages, 1);
    assert.deepEqual(await readAll(second), ["m-0"]);
    await second.close();
  });
});

Deno.test("Spool drop-oldest drops the oldest messages and counts them", async () => {
  await withDirectory(async (directory) => {
    const spool = await Spool.open({
      directory,
      topic: TOPIC,
      maxBytes: 1024 * 1024,
      full: "drop-oldest",
    });
    for (let i = 0; i < 20; i++) await spool.append([message(i, 100_000)]);

    assert.ok(spool.pendingBytes <= spool.maxBytes, `${spool.pendingBytes} bytes pending`);
    assert.ok(spool.droppedMessages > 0, "nothing was dropped");
    assert.equal(spool.pendingMessages + spool.droppedMessages, 20);

    const pending = spool.pendingMessages;
    const kept = await readAll(spool);
    const expected = Array.from({ length: pending }, (_, index) => `m-${20 - pending + index}`);
    assert.deepEqual(kept, expected, "the newest messages are kept, in order");
    await spool.close();
  });
});

Deno.test("Spool drop-oldest spares the batch being sent", async () => {
  await withDirectory(async (directory) => {
    const spool = await Spool.open({
      directory,
      topic: TOPIC,
      maxBytes: 1024 * 1024,
      full: "drop-oldest",
      segmentBytes: 1024 * 1024,
    });
    for (let i = 0; i < 9; i++) await spool.append([message(i, 100_000)]);
    const outstanding = await spool.read(2, 10_000_000);
    assert.deepEqual(outstanding?.messages.map((m) => m.messageId), ["m-0", "m-1"]);

    for (let i = 9; i < 14; i++) await spool.append([message(i, 100_000)]);
    assert.ok(spool.droppedMessages > 0, "nothing was dropped");
    await spool.commit(outstanding!);

    const rest = await readAll(spool);
    const firstKept = Number(rest[0].slice(2));
    assert.ok(firstKept > 2, `m-2 should have been dropped, got ${rest.join(",")}`);
    assert.equal(rest.at(-1), "m-13");
    assert.equal(2 + rest.length + spool.droppedMessages, 14);
    await spool.close();
  });
});

Deno.test("Spool block makes append wait until a commit frees room", async () => {
  await withDirectory(async (directory) => {
    const spool = await Spool.open({ directory, topic: TOPIC, maxBytes: 1024 * 1024 });
    for (let i = 0; i < 10; i++) await spool.append([message(i, 100_000)]);
    assert.equal(spool.pendingMessages, 10);

    let appended = false;
    const waiting = spool.append([message(10, 100_000)]).then(() => appended = true);
    const batch = await spool.read(1, 10_000_000);
    assert.equal(appended, false, "the append did not wait for room");
    assert.equal(spool.droppedMessages, 0);

    await spool.commit(batch!);
    await waiting;
    assert.equal(appended, true);
    assert.equal(spool.pendingMessages, 10);
    assert.equal((await readAll(spool)).at(-1), "m-10");
    await spool.close();
  });
});

Deno.test("Spool block append rejects when interrupted", async () => {
  await withDirectory(async (directory) => {
    const spool = await Spool.open({ directory, topic: TOPIC, maxBytes: 1024 * 1024 });
    for (let i = 0; i < 10; i++) await spool.append([message(i, 100_000)]);

    const controller = new AbortController();
    const waiting = spool.append([message(10, 100_000)], controller.signal);
    controller.abort();
    const error = await waiting.then(() => undefined, (caught: unknown) => caught);

    assert.ok(error instanceof SpoolInterruptedError, `got ${error}`);
    assert.equal(error.exitCode, ExitCode.Interrupted);
    assert.match(error.message, /full spool/);
    assert.equal(spool.pendingMessages, 10);
    await spool.close();
  });
});

Deno.test("Spool rolls segments and deletes the sent ones", async () => {
  await withDirectory(async (directory) => {
    const spool = await Spool.open({ directory, topic: TOPIC, segmentBytes: 4096 });
    for (let i = 0; i < 100; i++) await spool.append([message(i, 200)]);
    assert.ok((await segmentFiles(directory)).length > 3, "no segment was rolled");

    const ids = await readAll(spool, 7);
    assert.deepEqual(ids, Array.from({ length: 100 }, (_, i) => `m-${i}`));
    assert.equal((await segmentFiles(directory)).length, 1, "sent segments remain");
    await spool.close();
  });
});

Deno.test("Spool rejects a directory of another topic", async () => {
  await withDirectory(async (directory) => {
    const first = await Spool.open({ directory, topic: "topic-a" });
    await first.close();

    const error = await Spool.open({ directory, topic: "topic-b" }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof SpoolError, `got ${error}`);
    assert.equal(error.exitCode, ExitCode.SpoolFailed);
    assert.match(error.message, /contains messages for Kafka topic "topic-a", not "topic-b"/);
  });
});

Deno.test("Spool rejects a directory in use", async () => {
  await withDirectory(async (directory) => {
    const first = await Spool.open({ directory, topic: TOPIC });
    try {
      const error = await Spool.open({ directory, topic: TOPIC }).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      assert.ok(error instanceof SpoolError, `got ${error}`);
      assert.match(error.message, /is in use by another dskafka process/);
    } finally {
      await first.close();
    }
  });
});

Deno.test("Spool rejects a directory below a file", async () => {
  await withDirectory(async (directory) => {
    await Deno.writeTextFile(`${directory}/file`, "not a directory");
    const error = await Spool.open({ directory: `${directory}/file/spool`, topic: TOPIC }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof SpoolError, `got ${error}`);
    assert.match(error.message, /cannot create the spool directory ".*file\/spool"/);
  });
});
