/**
 * `cli.ts` as a child process that a test watches line by line and may signal or kill,
 * for runs that `runCli` cannot express because something must happen in their middle.
 *
 * @module
 */

import { cliEnvironment, REPOSITORY_ROOT } from "../fixtures/run_cli.ts";

/** How a watched run ended. */
export interface CliExit {
  /** Exit code, or 128 + the signal number when a signal killed the process. */
  code: number;
  /** stderr, complete. */
  stderr: string;
  /** stdout lines parsed as JSON. */
  messages: Record<string, unknown>[];
}

/** A running `deno run -A cli.ts ARGS`. */
export class CliProcess {
  readonly #child: Deno.ChildProcess;
  readonly #stderrLines: string[] = [];
  readonly #stdoutLines: string[] = [];
  readonly #readers: Promise<void>;
  #exit: CliExit | undefined;
  #outputEnded = false;
  #changed = Promise.withResolvers<void>();

  private constructor(args: string[]) {
    this.#child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${REPOSITORY_ROOT}/cli.ts`, ...args],
      cwd: REPOSITORY_ROOT,
      env: cliEnvironment(),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();

    this.#readers = Promise.all([
      this.#collect(this.#child.stderr, this.#stderrLines),
      this.#collect(this.#child.stdout, this.#stdoutLines),
    ]).then(() => {
      this.#outputEnded = true;
      this.#signalChange();
    });
  }

  /** Starts `cli.ts` with `args`, with the environment of `runCli` (sanitized shim included). */
  static start(args: string[]): CliProcess {
    return new CliProcess(args);
  }

  /** stderr lines received so far. */
  get stderrLines(): readonly string[] {
    return this.#stderrLines;
  }

  /** stdout lines received so far, parsed as JSON messages. */
  messages(): Record<string, unknown>[] {
    return this.#stdoutLines.filter((line) => line.trim() !== "").map((line) => JSON.parse(line));
  }

  /**
   * Waits until `accept` returns true for the messages printed so far. Throws when the
   * process exits first, or after `limitMs`.
   */
  async waitForMessages(
    accept: (messages: Record<string, unknown>[]) => boolean,
    what: string,
    limitMs: number,
  ): Promise<void> {
    const deadline = Date.now() + limitMs;
    while (!accept(this.messages())) {
      const remaining = deadline - Date.now();
      if (this.#outputEnded || remaining <= 0) {
        throw new Error(
          `no ${what} ${this.#outputEnded ? "before cli.ts exited" : `within ${limitMs} ms`}; ` +
            `stderr:\n${this.#stderrLines.join("\n")}`,
        );
      }
      await this.#nextChange(remaining);
    }
  }

  /** Number of stderr lines so far that match `pattern`. */
  count(pattern: RegExp): number {
    return this.#stderrLines.filter((line) => pattern.test(line)).length;
  }

  /**
   * Waits until `occurrences` stderr lines match `pattern` and returns the last of them.
   * Throws when the process exits first, or after `limitMs`, so that a test never hangs.
   */
  async waitFor(pattern: RegExp, limitMs: number, occurrences = 1): Promise<string> {
    const deadline = Date.now() + limitMs;
    for (;;) {
      const matches = this.#stderrLines.filter((line) => pattern.test(line));
      if (matches.length >= occurrences) return matches[occurrences - 1];

      if (this.#outputEnded) {
        throw new Error(
          `cli.ts exited before printing ${occurrences} line(s) matching ${pattern}; ` +
            `stderr:\n${this.#stderrLines.join("\n")}`,
        );
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        throw new Error(
          `no ${occurrences} stderr line(s) matching ${pattern} within ${limitMs} ms; ` +
            `stderr:\n${this.#stderrLines.join("\n")}`,
        );
      }
      await this.#nextChange(remaining);
    }
  }

  /** Sends `signal` to the process, unless it has exited already. */
  kill(signal: Deno.Signal): void {
    try {
      this.#child.kill(signal);
    } catch (error) {
      if (!(error instanceof TypeError && /already terminated/.test(error.message))) throw error;
    }
  }

  /**
   * Waits for the process to exit and returns its code and output. After `limitMs` it
   * kills the process with SIGKILL and throws, so that a test never hangs.
   */
  async exit(limitMs: number): Promise<CliExit> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<"expired">((resolve) => {
      timer = setTimeout(() => resolve("expired"), limitMs);
    });
    const status = await Promise.race([this.#child.status, expired]);
    clearTimeout(timer);

    if (status === "expired") {
      this.#child.kill("SIGKILL");
      await this.#child.status;
      await this.#readers;
      throw new Error(
        `cli.ts did not exit within ${limitMs} ms and was killed; stderr:\n` +
          this.#stderrLines.join("\n"),
      );
    }

    await this.#readers;
    const stderr = this.#stderrLines.join("\n");
    if (/ERROR: AddressSanitizer|runtime error:/.test(stderr)) {
      throw new Error(`a sanitizer reported an error in the shim:\n${stderr}`);
    }
    this.#exit = {
      code: status.signal === null ? status.code : 128 + signalNumber(status.signal),
      stderr,
      messages: this.messages(),
    };
    return this.#exit;
  }

  async #collect(stream: ReadableStream<Uint8Array>, lines: string[]): Promise<void> {
    let pending = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      pending += chunk;
      const parts = pending.split("\n");
      pending = parts.pop() ?? "";
      lines.push(...parts);
      this.#signalChange();
    }
    if (pending !== "") lines.push(pending);
    this.#signalChange();
  }

  #signalChange(): void {
    this.#changed.resolve();
    this.#changed = Promise.withResolvers<void>();
  }

  async #nextChange(limitMs: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#changed.promise,
      new Promise<void>((resolve) => timer = setTimeout(resolve, Math.min(limitMs, 1000))),
    ]);
    clearTimeout(timer);
  }
}

function signalNumber(signal: Deno.Signal): number {
  const numbers: Partial<Record<Deno.Signal, number>> = {
    SIGINT: 2,
    SIGKILL: 9,
    SIGTERM: 15,
  };
  return numbers[signal] ?? 0;
}

/** Waits `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
