import assert from "node:assert/strict";
import { UnorderedCountHistogram } from "../../src/analytics/object_count.ts";

/**
 * Printed by a program that inserts these keys, one by one, into a
 * `std::unordered_map<uint32_t, uint32_t>` built with GCC 12's libstdc++ (the library
 * nvdsanalytics was built with for the golden data): the key inserted, the bucket count
 * after the insert (`bc=`), and the iteration order after the insert.
 */
const LIBSTDCXX_ORDER = `
ins 5 bc=13 : 5
ins 3 bc=13 : 3 5
ins 18 bc=13 : 3 18 5
ins 0 bc=13 : 0 3 18 5
ins 13 bc=13 : 13 0 3 18 5
ins 7 bc=13 : 7 13 0 3 18 5
ins 40 bc=13 : 40 7 13 0 3 18 5
ins 1 bc=13 : 1 40 7 13 0 3 18 5
ins 2 bc=13 : 2 1 40 7 13 0 3 18 5
ins 4 bc=13 : 4 2 1 40 7 13 0 3 18 5
ins 6 bc=13 : 6 4 2 1 40 7 13 0 3 18 5
ins 8 bc=13 : 8 6 4 2 1 40 7 13 0 3 18 5
ins 9 bc=13 : 9 8 6 4 2 1 40 7 13 0 3 18 5
ins 10 bc=29 : 10 5 18 3 0 13 7 40 1 2 4 6 8 9
ins 11 bc=29 : 10 5 18 3 0 13 7 11 40 1 2 4 6 8 9
ins 12 bc=29 : 12 10 5 18 3 0 13 7 11 40 1 2 4 6 8 9
ins 14 bc=29 : 14 12 10 5 18 3 0 13 7 11 40 1 2 4 6 8 9
ins 15 bc=29 : 15 14 12 10 5 18 3 0 13 7 11 40 1 2 4 6 8 9
ins 16 bc=29 : 16 15 14 12 10 5 18 3 0 13 7 11 40 1 2 4 6 8 9
ins 17 bc=29 : 17 16 15 14 12 10 5 18 3 0 13 7 11 40 1 2 4 6 8 9
ins 19 bc=29 : 19 17 16 15 14 12 10 5 18 3 0 13 7 11 40 1 2 4 6 8 9
ins 20 bc=29 : 20 19 17 16 15 14 12 10 5 18 3 0 13 7 11 40 1 2 4 6 8 9
ins 21 bc=29 : 21 20 19 17 16 15 14 12 10 5 18 3 0 13 7 11 40 1 2 4 6 8 9
ins 22 bc=29 : 22 21 20 19 17 16 15 14 12 10 5 18 3 0 13 7 11 40 1 2 4 6 8 9
ins 23 bc=29 : 23 22 21 20 19 17 16 15 14 12 10 5 18 3 0 13 7 11 40 1 2 4 6 8 9
ins 24 bc=29 : 24 23 22 21 20 19 17 16 15 14 12 10 5 18 3 0 13 7 11 40 1 2 4 6 8 9
ins 25 bc=29 : 25 24 23 22 21 20 19 17 16 15 14 12 10 5 18 3 0 13 7 11 40 1 2 4 6 8 9
ins 26 bc=29 : 26 25 24 23 22 21 20 19 17 16 15 14 12 10 5 18 3 0 13 7 11 40 1 2 4 6 8 9
ins 27 bc=29 : 27 26 25 24 23 22 21 20 19 17 16 15 14 12 10 5 18 3 0 13 7 11 40 1 2 4 6 8 9
ins 28 bc=59 : 28 9 8 6 4 2 1 40 11 7 13 0 3 18 5 10 12 14 15 16 17 19 20 21 22 23 24 25 26 27
ins 29 bc=59 : 29 28 9 8 6 4 2 1 40 11 7 13 0 3 18 5 10 12 14 15 16 17 19 20 21 22 23 24 25 26 27
ins 30 bc=59 : 30 29 28 9 8 6 4 2 1 40 11 7 13 0 3 18 5 10 12 14 15 16 17 19 20 21 22 23 24 25 26 27
ins 31 bc=59 : 31 30 29 28 9 8 6 4 2 1 40 11 7 13 0 3 18 5 10 12 14 15 16 17 19 20 21 22 23 24 25 26 27
ins 32 bc=59 : 32 31 30 29 28 9 8 6 4 2 1 40 11 7 13 0 3 18 5 10 12 14 15 16 17 19 20 21 22 23 24 25 26 27
ins 33 bc=59 : 33 32 31 30 29 28 9 8 6 4 2 1 40 11 7 13 0 3 18 5 10 12 14 15 16 17 19 20 21 22 23 24 25 26 27
ins 60 bc=59 : 33 32 31 30 29 28 9 8 6 4 2 60 1 40 11 7 13 0 3 18 5 10 12 14 15 16 17 19 20 21 22 23 24 25 26 27
ins 61 bc=59 : 33 32 31 30 29 28 9 8 6 4 61 2 60 1 40 11 7 13 0 3 18 5 10 12 14 15 16 17 19 20 21 22 23 24 25 26 27
ins 62 bc=59 : 33 32 31 30 29 28 9 8 6 4 61 2 60 1 40 11 7 13 0 62 3 18 5 10 12 14 15 16 17 19 20 21 22 23 24 25 26 27
ins 63 bc=59 : 33 32 31 30 29 28 9 8 6 63 4 61 2 60 1 40 11 7 13 0 62 3 18 5 10 12 14 15 16 17 19 20 21 22 23 24 25 26 27
ins 64 bc=59 : 33 32 31 30 29 28 9 8 6 63 4 61 2 60 1 40 11 7 13 0 62 3 18 64 5 10 12 14 15 16 17 19 20 21 22 23 24 25 26 27
ins 65 bc=59 : 33 32 31 30 29 28 9 8 65 6 63 4 61 2 60 1 40 11 7 13 0 62 3 18 64 5 10 12 14 15 16 17 19 20 21 22 23 24 25 26 27
ins 66 bc=59 : 33 32 31 30 29 28 9 8 65 6 63 4 61 2 60 1 40 11 66 7 13 0 62 3 18 64 5 10 12 14 15 16 17 19 20 21 22 23 24 25 26 27
`;

Deno.test("UnorderedCountHistogram iterates in libstdc++'s order through inserts and rehashes", () => {
  const histogram = new UnorderedCountHistogram();
  const steps = LIBSTDCXX_ORDER.trim().split("\n");
  assert.equal(steps.length, 42);
  for (const step of steps) {
    const match = /^ins (\d+) bc=(\d+) :([\d ]+)$/.exec(step);
    assert.ok(match, step);
    const key = Number(match[1]);
    histogram.increment(key);
    assert.equal(histogram.bucketCount, Number(match[2]), `bucket count after inserting ${key}`);
    assert.deepEqual(
      histogram.keysInOrder(),
      match[3].trim().split(" ").map(Number),
      `order after inserting ${key}`,
    );
  }
});

Deno.test("UnorderedCountHistogram.mode() returns the first maximum in iteration order", () => {
  const histogram = new UnorderedCountHistogram();
  histogram.increment(4);
  histogram.increment(7); // iteration order now 7, 4
  assert.deepEqual(histogram.mode(), { key: 7, tie: true });
  histogram.increment(4);
  assert.deepEqual(histogram.mode(), { key: 4, tie: false });
  histogram.decrement(4);
  histogram.decrement(4);
  assert.deepEqual(histogram.mode(), { key: 7, tie: false });
});
