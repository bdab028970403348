import assert from "node:assert/strict";

import {
  EMBEDDED_SHIM_URL,
  extractEmbeddedShim,
  SHIM_FILE_NAME,
  shimCacheDirectory,
} from "../../ffi/embedded.ts";
import { openShim } from "../../ffi/library.ts";
import { EXPECTED_VERSION_MAJOR } from "../../ffi/symbols.ts";
import { ShimLoadError } from "../../src/errors.ts";
import { logSettings } from "../../src/log.ts";
import { REPOSITORY_ROOT } from "../fixtures/run_cli.ts";

/** The library the tests treat as the embedded one: the shim built in this tree. */
const LIBRARY = `${REPOSITORY_ROOT}/cshim/build/libdskafka.so`;

/** SHA-256 from coreutils' sha256sum, a check independent of the code under test. */
async function sha256sum(path: string): Promise<string> {
  const { code, stdout } = await new Deno.Command("sha256sum", { args: [path], stdout: "piped" })
    .output();
  assert.equal(code, 0);
  return new TextDecoder().decode(stdout).split(" ")[0];
}

async function withCache(run: (cache: string) => void | Promise<void>) {
  const cache = await Deno.makeTempDir({ prefix: "dskafka-shim-cache-" });
  try {
    await run(cache);
  } finally {
    await Deno.remove(cache, { recursive: true });
  }
}

/** Runs `run` with log lines collected instead of printed. */
function collectLogs<T>(run: () => T): { result: T; lines: string[] } {
  const lines: string[] = [];
  const write = logSettings.write;
  logSettings.write = (line) => lines.push(line);
  try {
    return { result: run(), lines };
  } finally {
    logSettings.write = write;
  }
}

Deno.test("extractEmbeddedShim() writes the library under its SHA-256", async () => {
  await withCache(async (cache) => {
    const path = extractEmbeddedShim(new URL(`file://${LIBRARY}`), { cacheDirectory: cache });
    const hash = await sha256sum(LIBRARY);

    assert.equal(path, `${cache}/${hash}/${SHIM_FILE_NAME}`);
    assert.deepEqual(await Deno.readFile(path), await Deno.readFile(LIBRARY));
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o755);
    assert.deepEqual(
      [...Deno.readDirSync(`${cache}/${hash}`)].map((e) => e.name),
      [SHIM_FILE_NAME],
      "a temporary file was left",
    );
  });
});

Deno.test("extractEmbeddedShim() reuses a matching extracted file", async () => {
  await withCache(async (cache) => {
    const first = extractEmbeddedShim(new URL(`file://${LIBRARY}`), { cacheDirectory: cache });
    const before = await Deno.stat(first);
    const second = extractEmbeddedShim(await Deno.readFile(LIBRARY), { cacheDirectory: cache });
    const after = await Deno.stat(second);

    assert.equal(second, first);
    assert.equal(after.ino, before.ino, "the file was written again");
    assert.equal(after.mtime?.getTime(), before.mtime?.getTime());
  });
});

Deno.test("extractEmbeddedShim() replaces a corrupted extracted file", async () => {
  await withCache(async (cache) => {
    const path = extractEmbeddedShim(new URL(`file://${LIBRARY}`), { cacheDirectory: cache });
    const original = await Deno.readFile(path);
    await Deno.writeFile(path, original.subarray(0, original.length / 2));

    const { result, lines } = collectLogs(() =>
      extractEmbeddedShim(original, { cacheDirectory: cache })
    );

    assert.equal(result, path);
    assert.equal(await sha256sum(path), await sha256sum(LIBRARY));
    assert.equal(lines.length, 1);
    assert.match(lines[0], /^dskafka warn \[shim\] the extracted shim does not match its SHA-256/);
  });
});

Deno.test("extractEmbeddedShim() output loads and answers dsx_version", async () => {
  await withCache((cache) => {
    const path = extractEmbeddedShim(new URL(`file://${LIBRARY}`), { cacheDirectory: cache });
    const symbols = openShim(path);

    assert.equal(symbols.dsx_version() >>> 16, EXPECTED_VERSION_MAJOR);
  });
});

Deno.test("extractEmbeddedShim() names a binary compiled without the shim", async () => {
  await withCache((cache) => {
    assert.throws(
      () =>
        extractEmbeddedShim(new URL(`file://${cache}/missing/libdskafka.so`), {
          cacheDirectory: cache,
        }),
      (error: unknown) => {
        assert.ok(error instanceof ShimLoadError);
        assert.match(error.message, /this dskafka binary carries no shim .*deno task compile/);
        return true;
      },
    );
  });
});

Deno.test("extractEmbeddedShim() names a cache folder it cannot write", async () => {
  await withCache(async (cache) => {
    // A regular file where the cache folder should be: creating folders under it fails.
    await Deno.writeTextFile(`${cache}/not-a-folder`, "");

    assert.throws(
      () =>
        extractEmbeddedShim(new Uint8Array([1, 2, 3]), { cacheDirectory: `${cache}/not-a-folder` }),
      (error: unknown) => {
        assert.ok(error instanceof ShimLoadError);
        assert.match(
          error.message,
          /could not extract the dskafka shim to .*not-a-folder\/[0-9a-f]{64} /,
        );
        assert.match(error.message, /DSKAFKA_SHIM_PATH/);
        return true;
      },
    );
  });
});

Deno.test("extractEmbeddedShim() defaults to the XDG cache folder", async () => {
  await withCache(async (cache) => {
    const script =
      `import { EMBEDDED_SHIM_URL, extractEmbeddedShim } from "${REPOSITORY_ROOT}/ffi/embedded.ts";\n` +
      "console.log(extractEmbeddedShim(EMBEDDED_SHIM_URL));";
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["eval", script],
      env: { XDG_CACHE_HOME: cache },
      stdout: "piped",
      stderr: "piped",
    }).output();

    assert.equal(code, 0, new TextDecoder().decode(stderr));
    const hash = await sha256sum(LIBRARY);
    assert.equal(
      new TextDecoder().decode(stdout).trim(),
      `${cache}/dskafka/${hash}/${SHIM_FILE_NAME}`,
    );
    assert.equal(
      EMBEDDED_SHIM_URL.pathname,
      LIBRARY,
      "outside a compiled binary the URL is the built library",
    );
  });
});

Deno.test("shimCacheDirectory() follows XDG_CACHE_HOME, then HOME", () => {
  const from = (variables: Record<string, string>) => shimCacheDirectory((name) => variables[name]);

  assert.equal(
    from({ XDG_CACHE_HOME: "/var/cache/ada/", HOME: "/home/ada" }),
    "/var/cache/ada/dskafka",
  );
  assert.equal(from({ HOME: "/home/ada" }), "/home/ada/.cache/dskafka");
  assert.equal(
    from({ XDG_CACHE_HOME: "relative/cache", HOME: "/home/ada" }),
    "/home/ada/.cache/dskafka",
  );
  assert.throws(() => from({}), ShimLoadError);
});
