/**
 * The smoothed per-class object count (`objCnt`): the most frequent count of each class
 * over the last `obj-cnt-win-in-ms` milliseconds.
 *
 * For each class the library keeps a histogram "count value → how many frames in the
 * window had that count" and the count of each frame in the window. Each frame it adds
 * the new count, drops the frames older than the window (`(now − then) / 1e6 > window`,
 * in double), and reports the count value with the highest frequency. Counts of 0 are
 * recorded for every class seen before that has no object in this frame, so a class
 * that disappears fades to 0.
 *
 * Ties are frequent (a count that changed a frame ago has frequency 1 twice in a
 * 50 ms window at 30 fps). The library then reports the first maximum in
 * `std::unordered_map` iteration order, which depends on the history of insertions and
 * rehashes of that histogram. {@linkcode UnorderedCountHistogram} replays that order
 * exactly as libstdc++ (GCC 12) lays its nodes out, so ties resolve the same way.
 * Values whose frequency dropped to 0 stay in the histogram, as in the library.
 *
 * @module
 */

const TWO_POW_64 = 18446744073709551616;

/** libstdc++'s bucket counts for small tables (`__fast_bkt`). */
const FAST_BUCKETS = [2, 2, 2, 3, 5, 5, 7, 7, 11, 11, 11, 11, 13, 13];

/** libstdc++'s bucket counts (`__prime_list`), up to what a histogram of counts needs. */
const PRIMES = [
  2,
  3,
  5,
  7,
  11,
  13,
  17,
  19,
  23,
  29,
  31,
  37,
  41,
  43,
  47,
  53,
  59,
  61,
  67,
  71,
  73,
  79,
  83,
  89,
  97,
  103,
  109,
  113,
  127,
  137,
  139,
  149,
  157,
  167,
  179,
  193,
  199,
  211,
  227,
  241,
  257,
  277,
  293,
  313,
  337,
  359,
  383,
  409,
  439,
  467,
  503,
  541,
  577,
  619,
  661,
  709,
  761,
  823,
  887,
  953,
  1031,
  1109,
  1193,
  1289,
  1381,
  1493,
  1613,
  1741,
  1879,
  2029,
  2179,
  2357,
  2549,
  2753,
  2971,
  3209,
  3469,
  3739,
  4027,
  4349,
  4703,
  5087,
  5503,
  5953,
  6427,
  6949,
  7517,
  8123,
  8783,
  9497,
  10273,
  11113,
  12011,
  12983,
  14033,
  15173,
  16411,
  17749,
  19183,
  20753,
  22447,
  24281,
  26267,
  28411,
  30727,
  33223,
  35933,
  38873,
  42043,
  45481,
  49201,
  53201,
  57557,
  62233,
  67307,
  72817,
  78779,
  85229,
  92203,
  99733,
  107897,
  116731,
  126271,
  136607,
  147793,
  159871,
  172933,
  187091,
  202409,
  218971,
  236897,
  256279,
  277261,
  299951,
  324503,
  351061,
  379787,
  410857,
  444487,
  480881,
  520241,
  562841,
  608903,
  658753,
  712697,
  771049,
  834181,
  902483,
  976369,
  1056323,
  1142821,
  1236397,
  1337629,
  1447153,
  1565659,
  1693859,
  1832561,
  1982627,
  2144977,
  2320627,
  2510653,
  2716249,
  2938679,
  3179303,
  3439651,
  3721303,
  4026031,
  4355707,
  4712381,
  5098259,
  5515729,
  5967347,
  6456007,
  6984629,
  7556579,
  8175383,
  8844859,
  9569143,
  10352717,
  11200489,
  12117689,
  13109983,
  14183539,
  15345007,
  16601593,
  17961079,
  19431899,
  21023161,
  22744717,
  24607243,
  26622317,
  28802401,
  31160981,
  33712729,
];

const EMPTY = -1;
/** A bucket whose first node is the head of the list (libstdc++'s `_M_before_begin`). */
const BEFORE_BEGIN = -2;

/**
 * A `std::unordered_map<uint32_t, uint32_t>` that only grows, with libstdc++'s node
 * order: a singly linked list of all nodes, where each bucket points at the node
 * *before* its first node. A node for an empty bucket goes to the head of the list; a
 * node for a used bucket goes to the front of that bucket's run. A rehash walks the
 * old list and rebuilds it, which reverses the order of nodes in distinct buckets.
 * `std::hash<uint32_t>` is the identity, so a key's bucket is `key % bucketCount`.
 */
export class UnorderedCountHistogram {
  private readonly keys: number[] = [];
  private readonly counts: number[] = [];
  private readonly next: number[] = [];
  private readonly nodeOf = new Map<number, number>();
  private head = EMPTY;
  private buckets: Int32Array = new Int32Array([EMPTY]);
  private nextResize = 0;

  /** Number of distinct keys. */
  get size(): number {
    return this.keys.length;
  }

  /** The current bucket count (for tests against libstdc++). */
  get bucketCount(): number {
    return this.buckets.length;
  }

  /** Adds 1 to the frequency of `key`, inserting it when new (`map[key] += 1`). */
  increment(key: number): void {
    const node = this.nodeOf.get(key);
    if (node !== undefined) this.counts[node]++;
    else this.insert(key, 1);
  }

  /** Subtracts 1 from the frequency of an existing `key` (as `uint32_t`). */
  decrement(key: number): void {
    const node = this.nodeOf.get(key);
    if (node === undefined) this.insert(key, 0xffffffff);
    else this.counts[node] = (this.counts[node] - 1) >>> 0;
  }

  /** Keys in iteration order. */
  keysInOrder(): number[] {
    const out: number[] = [];
    for (let n = this.head; n !== EMPTY; n = this.next[n]) out.push(this.keys[n]);
    return out;
  }

  /**
   * `std::max_element` by frequency: the first key, in iteration order, with the highest
   * frequency. `tie` says whether another key has that frequency too.
   */
  mode(): { key: number; tie: boolean } {
    let best = this.head;
    let tie = false;
    for (let n = this.next[best]; n !== EMPTY && n !== undefined; n = this.next[n]) {
      const c = this.counts[n];
      const b = this.counts[best];
      if (c > b) {
        best = n;
        tie = false;
      } else if (c === b) {
        tie = true;
      }
    }
    return { key: this.keys[best], tie };
  }

  private insert(key: number, count: number): void {
    const grow = this.needRehash(this.keys.length, 1);
    if (grow > 0) this.rehash(grow);

    const node = this.keys.length;
    this.keys.push(key);
    this.counts.push(count);
    this.next.push(EMPTY);
    this.nodeOf.set(key, node);

    const bucketCount = this.buckets.length;
    const bucket = key % bucketCount;
    const before = this.buckets[bucket];
    if (before !== EMPTY) {
      // Front of the bucket's run, right after the node before it.
      this.next[node] = this.after(before);
      this.link(before, node);
    } else {
      // A new bucket: head of the whole list. The bucket of the old head now starts
      // after this node.
      this.next[node] = this.head;
      this.head = node;
      if (this.next[node] !== EMPTY) {
        this.buckets[this.keys[this.next[node]] % bucketCount] = node;
      }
      this.buckets[bucket] = BEFORE_BEGIN;
    }
  }

  /** `_Prime_rehash_policy::_M_need_rehash`: the new bucket count, or 0. */
  private needRehash(elements: number, inserting: number): number {
    if (elements + inserting <= this.nextResize) return 0;
    const minBuckets = Math.max(elements + inserting, this.nextResize ? 0 : 11);
    const bucketCount = this.buckets.length;
    if (minBuckets >= bucketCount) {
      return this.nextBucketCount(Math.max(Math.floor(minBuckets) + 1, bucketCount * 2));
    }
    this.nextResize = bucketCount;
    return 0;
  }

  /** `_Prime_rehash_policy::_M_next_bkt` with a maximum load factor of 1. */
  private nextBucketCount(n: number): number {
    if (n < FAST_BUCKETS.length) {
      if (n === 0) return 1;
      this.nextResize = FAST_BUCKETS[n];
      return FAST_BUCKETS[n];
    }
    let lo = 6;
    let hi = PRIMES.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (PRIMES[mid] < n) lo = mid + 1;
      else hi = mid;
    }
    if (lo >= PRIMES.length) throw new RangeError(`histogram of ${n} count values is too large`);
    this.nextResize = PRIMES[lo];
    return PRIMES[lo];
  }

  /** `_M_rehash_aux` for unique keys. */
  private rehash(bucketCount: number): void {
    const buckets = new Int32Array(bucketCount).fill(EMPTY);
    let p = this.head;
    this.head = EMPTY;
    let beginBucket = 0;
    while (p !== EMPTY) {
      const following = this.next[p];
      const bucket = this.keys[p] % bucketCount;
      if (buckets[bucket] === EMPTY) {
        this.next[p] = this.head;
        this.head = p;
        buckets[bucket] = BEFORE_BEGIN;
        if (this.next[p] !== EMPTY) buckets[beginBucket] = p;
        beginBucket = bucket;
      } else {
        const before = buckets[bucket];
        this.next[p] = this.after(before);
        this.link(before, p);
      }
      p = following;
    }
    this.buckets = buckets;
  }

  private after(before: number): number {
    return before === BEFORE_BEGIN ? this.head : this.next[before];
  }

  private link(before: number, node: number): void {
    if (before === BEFORE_BEGIN) this.head = node;
    else this.next[before] = node;
  }
}

/** The sliding window of one class. */
class ClassWindow {
  readonly histogram = new UnorderedCountHistogram();
  /** Frame timestamp (ns) → that frame's count, for the frames in the window. */
  readonly past = new Map<number, number>();
  /** Timestamp of the last update; 0 before the first, as the library's zeroed struct. */
  lastUpdate = 0;
}

/** The smoothed count of one class in one frame. */
export interface SmoothedCount {
  classId: number;
  count: number;
  /** Whether the histogram had more than one most frequent value. */
  tie: boolean;
}

/** Per-class smoothed counts of one stream. */
export class ObjectCountSmoother {
  private readonly windowMs: number;
  /** Classes in order of first appearance. */
  private readonly classes = new Map<number, ClassWindow>();

  /** @param windowMs `obj-cnt-win-in-ms` (50 when the key is absent) */
  constructor(windowMs: number) {
    this.windowMs = windowMs;
  }

  /**
   * Smooths one frame's raw per-class counts. Returns a smoothed count for every class
   * seen so far (0 for those absent from this frame).
   *
   * @param rawCounts objects per class in this frame
   * @param pts frame timestamp in ns (exact below 2^53)
   */
  update(rawCounts: ReadonlyMap<number, number>, pts: number): SmoothedCount[] {
    const out: SmoothedCount[] = [];
    for (const [classId, count] of rawCounts) {
      let window = this.classes.get(classId);
      if (!window) {
        window = new ClassWindow();
        this.classes.set(classId, window);
      }
      out.push(this.smooth(classId, window, count, pts));
    }
    for (const [classId, window] of this.classes) {
      if (window.lastUpdate !== pts) out.push(this.smooth(classId, window, 0, pts));
    }
    return out;
  }

  private smooth(classId: number, window: ClassWindow, count: number, pts: number): SmoothedCount {
    window.histogram.increment(count);
    for (const [then, pastCount] of window.past) {
      // uint64 arithmetic: a timestamp from the future wraps to a huge age.
      const age = pts - then;
      if ((age < 0 ? age + TWO_POW_64 : age) / 1e6 > this.windowMs) {
        window.past.delete(then);
        window.histogram.decrement(pastCount);
      }
    }
    const { key, tie } = window.histogram.mode();
    window.past.set(pts, count);
    window.lastUpdate = pts;
    return { classId, count: key, tie };
  }
}
