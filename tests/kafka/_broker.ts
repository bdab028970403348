/**
 * Test helpers around the local Kafka broker that `scripts/kafka/broker start` runs,
 * with kcat as an independent client.
 *
 * @module
 */

/** Port of the test broker. */
export const BROKER_PORT = Number(Deno.env.get("DSKAFKA_KAFKA_PORT") ?? "9092");

/** The test broker as `host:port`. */
export const BROKER = `127.0.0.1:${BROKER_PORT}`;

/** One record as kcat's JSON output (`-J`) prints it. */
export interface KcatRecord {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  payload: string | null;
  /** Header names and values, alternating. */
  headers?: string[];
}

/**
 * Throws with a clear message when no broker serves metadata on {@linkcode BROKER}. A
 * test that needs the broker calls it first, so a missing broker fails the test
 * instead of skipping it.
 */
export async function requireBroker(broker = BROKER): Promise<void> {
  const result = await kcat(["-L", "-b", broker, "-m", "5"]);
  if (result.code !== 0 || !result.stdout.includes("broker")) {
    const lastLine = result.stderr.trim().split("\n").at(-1);
    throw new Error(
      `no Kafka broker serves metadata on ${broker}: start one with ` +
        `\`scripts/kafka/broker start\` (kcat: ${lastLine})`,
    );
  }
}

/** Returns a topic name that no earlier test or run has used. */
export function freshTopic(label: string): string {
  return `dskafka-test-${label}-${crypto.randomUUID().slice(0, 8)}`;
}

/** Reads every record of `topic` with kcat, from the first offset to the end. */
export async function readTopic(topic: string, broker = BROKER): Promise<KcatRecord[]> {
  const result = await kcat(["-C", "-b", broker, "-t", topic, "-e", "-J", "-q", "-o", "beginning"]);
  if (result.code !== 0) {
    throw new Error(`kcat could not read topic ${topic}: ${result.stderr.trim()}`);
  }

  return result.stdout
    .split("\n")
    .filter((line) => line.trim().length > 0)
    .map((line) => JSON.parse(line) as KcatRecord);
}

/** Returns whether the broker lists `topic`. */
export async function topicExists(topic: string, broker = BROKER): Promise<boolean> {
  const result = await kcat(["-L", "-b", broker, "-m", "5"]);
  if (result.code !== 0) throw new Error(`kcat -L failed: ${result.stderr.trim()}`);

  return result.stdout.includes(`topic "${topic}"`);
}

/** Returns the header value `name` of a kcat record. */
export function header(record: KcatRecord, name: string): string | undefined {
  const headers = record.headers ?? [];
  for (let i = 0; i + 1 < headers.length; i += 2) {
    if (headers[i] === name) return headers[i + 1];
  }
  return undefined;
}

/** Returns a local TCP port that nothing listens on. */
export function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function kcat(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command("kcat", { args, stdout: "piped", stderr: "piped" })
    .output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}
