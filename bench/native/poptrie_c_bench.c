/*
 * poptrie_c_bench — issue 3: is the gap between vnetd's IPv4 Poptrie (Java, 33-73 M single lookups/s on 1 M routes)
 * and DPDK rte_lpm (~100 M/s) the Java code generation or the Poptrie's layout (two dependent cache misses a
 * lookup: the 1 MiB direct array, then the ~10 MB record area; rte_lpm's DIR-24-8 takes one)? This program looks
 * up the exact arrays of the Java Poptrie (dumped by dev.vnetd.bench.lpm.PoptrieDump) with exactly the algorithm of
 * Poptrie.lookup(Table, int) — direct entry, record leafvec + popcount, leaf; node roots through the node walk
 * (fromNode / descend, skip nodes included) — as plain C loads, so its rate is what the layout allows without the
 * JVM. Measure it in the same minutes as bench/native/rte_lpm_bench.c on the same keys.
 *
 *   poptrie_c_bench DUMP_DIR N SECONDS MODE...
 *     DUMP_DIR   holds poptrie-v4.bin, keys-v4.bin and answers-v4.bin (PoptrieDump's formats)
 *     MODE       check        hits and sum of values over all keys ("check HITS SUM", as rte_lpm_bench's check and
 *                             LpmAnswers), per-key comparison with Java's answers, the table's shape and how many
 *                             keys take the node path
 *                single       N iterations of single lookups (sum += lookup(key), one key after another) over the
 *                             keys, each whole passes for SECONDS; arrays in malloc'd memory (4 KiB pages, as the
 *                             JVM heap of the LPM benchmarks, which run without -XX:+UseTransparentHugePages)
 *                acquire      single, but the direct entry read with __atomic_load_n(__ATOMIC_ACQUIRE), as Java's
 *                             getIntAcquire (a plain mov on x86; only a compiler ordering constraint)
 *                reload       acquire, with directBits and slots read from the table struct every lookup (the
 *                             acquire keeps the compiler from hoisting them), as C2 compiles Java's loop
 *                batch        64 keys at a time in three passes (direct entries; records -> leaf index, or the
 *                             node walk; leaves), as Poptrie.lookup(Table, int[], int[], int)
 *                direct       decomposition, not a lookup: only the direct entry of each key (the first level)
 *                records      decomposition: only the record and leaf of each key, its direct entry precomputed in
 *                             a sequential array (the second level without the dependent first-level miss)
 *                huge, acquire-huge, reload-huge, batch-huge, direct-huge, records-huge
 *                             the same with the arrays copied to a 2 MiB-aligned mmap with madvise(MADV_HUGEPAGE)
 *                             (THP; the AnonHugePages of the mapping is printed to stderr)
 *     prints per MODE one line: "MODE R1 R2 ... RN" (lookups per second), as rte_lpm_bench does.
 *   poptrie_c_bench DUMP_DIR -
 *     the same modes as commands on standard input, "MODE N SECONDS" a line (rte_lpm_bench's protocol), so that a
 *     driver can alternate this process and rte_lpm_bench every few seconds without reloading either.
 *
 * Build: cc -O3 -march=native -Wall -o poptrie_c_bench bench/native/poptrie_c_bench.c
 * Dump:  java --enable-native-access=ALL-UNNAMED --add-exports java.base/jdk.internal.misc=ALL-UNNAMED \
 *            -cp bench/target/benchmarks.jar dev.vnetd.bench.lpm.PoptrieDump ROUTES KEYS DUMP_DIR
 * Run:   poptrie_c_bench DUMP_DIR 3 2 check single huge batch
 *        (hold /tmp/jmh.lock while measuring on a shared machine; alternate with rte_lpm_bench's "single 3 2").
 *
 * Decomposition on the 1 M-route table (same minutes as rte_lpm single ~102 M/s): direct ~935 M/s, records ~150 M/s,
 * the two chained (single) ~73 M/s: neither level alone is the limit, the dependency between them is.
 *
 * Instructions a record lookup (objdump of this build, gcc 12; C2's code from -XX:CompileCommand=print, JDK 25):
 * single 20 (4 loads: key, direct entry, leafvec folded into the and, leaf), reload 24, rte_lpm_lookup's tbl24 path
 * 13 (2 loads); C2's Ipv4ViewLookupBenchmark loop 29 (reloads directBits and slots from the View, decodes the
 * compressed slots pointer, null-checks it), its Ipv4LookupBenchmark loop 35 (also lpm.trie and trie.table).
 *
 * The single-lookup loop is kept scalar (no auto-vectorisation: AVX-512 gathers would not be the algorithm the JVM
 * runs); the loops are noinline so that objdump shows each one whole.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define STRIDE 6
#define NODE_INDEX 0x7FFFFFFF
#define SKIP_SHIFT 60
#define SKIP_BITS ((1ULL << SKIP_SHIFT) - 1)
#define NO_ROUTE (-1)
#define LEAF INT32_MIN
#define BULK 64

typedef struct {
    int bits;
    const int32_t *slots;
    const uint64_t *nodes;
    size_t nslots, nnodes;
} table;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *read_file(const char *dir, const char *name, size_t *size) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(2); }
    fseek(f, 0, SEEK_END);
    *size = (size_t) ftell(f);
    rewind(f);
    void *p = aligned_alloc(64, (*size + 63) / 64 * 64);
    if (fread(p, 1, *size, f) != *size) { perror(path); exit(2); }
    fclose(f);
    return p;
}

/* Java shifts: the count is taken mod 64 */
static inline uint64_t shl(uint64_t x, int n) { return x << (n & 63); }
static inline uint64_t shr(uint64_t x, int n) { return x >> (n & 63); }
static inline uint64_t upto(int c) { return (2ULL << c) - 1; } /* (2L << c) - 1, c in 0..63 */

/* Poptrie.bits and Poptrie.chunk, IPv4: lo = 0 */
static inline uint64_t bits_at(uint64_t hi, uint64_t lo, int depth, int count) {
    if (depth >= 64) return shr(shl(lo, depth - 64), 64 - count);
    uint64_t high = shr(shl(hi, depth), 64 - count);
    return depth + count <= 64 ? high : high | shr(lo, 128 - depth - count);
}

static inline int chunk_at(uint64_t hi, uint64_t lo, int depth) {
    if (depth <= 64 - STRIDE) return (int) shr(shl(hi, depth), 64 - STRIDE);
    if (depth >= 64) return (int) shr(shl(lo, depth - 64), 64 - STRIDE);
    return (int) (shr(shl(hi, depth), 64 - STRIDE) | shr(lo, 128 - STRIDE - depth));
}

static inline uint64_t load64(const int32_t *p) {
    uint64_t v;
    memcpy(&v, p, 8); /* getLongUnaligned: slots[at] low half, slots[at + 1] high half (little-endian) */
    return v;
}

/* Poptrie.descend */
static __attribute__((noinline)) int32_t descend(const table *t, uint64_t hi, uint64_t lo, int node, int depth, int c,
        uint64_t vector) {
    const uint64_t *nodes = t->nodes;
    for (;;) {
        node = ((int32_t) (nodes[node + 2] >> 32) + __builtin_popcountll(vector & upto(c)) - 1) * 3;
        depth += STRIDE;
        vector = nodes[node];
        if (nodes[node + 1] == 0 && vector != UINT64_MAX) {
            int skipped = (int) (vector >> SKIP_SHIFT) * STRIDE;
            if (bits_at(hi, lo, depth, skipped) != (vector & SKIP_BITS)) return (int32_t) nodes[node + 2];
            node = (int32_t) (nodes[node + 2] >> 32) * 3;
            depth += skipped;
            vector = nodes[node];
        }
        c = chunk_at(hi, lo, depth);
        if ((vector >> c & 1) == 0)
            return t->slots[(int32_t) nodes[node + 2] + __builtin_popcountll(nodes[node + 1] & upto(c)) - 1];
    }
}

/* Poptrie.fromNode */
static __attribute__((noinline)) int32_t from_node(const table *t, uint64_t hi, int32_t entry, int depth, int c) {
    const uint64_t *nodes = t->nodes;
    int node = (entry & NODE_INDEX) * 3;
    uint64_t vector = nodes[node];
    if ((vector >> c & 1) == 0)
        return t->slots[(int32_t) nodes[node + 2] + __builtin_popcountll(nodes[node + 1] & upto(c)) - 1];
    return descend(t, hi, 0, node, depth, c, vector);
}

/* Poptrie.lookup(Table, int): ACQUIRE selects getIntAcquire's C equivalent for the direct entry */
#define LOOKUP(NAME, LOAD_ENTRY)                                                                                 \
    static inline __attribute__((always_inline)) int32_t NAME(const table *t, const int32_t *slots, int bits,   \
            uint32_t address) {                                                                                 \
        uint32_t b = (address >> (31 - bits)) >> 1;                                                             \
        int32_t entry = LOAD_ENTRY;                                                                             \
        int c = (int) ((uint32_t) (address << bits) >> (32 - STRIDE));                                         \
        if (__builtin_expect(entry >= 0, 1)) {                                                                   \
            uint64_t leafvec = load64(slots + entry);                                                           \
            return slots[entry + 1 + __builtin_popcountll(leafvec & upto(c))];                                  \
        }                                                                                                       \
        return from_node(t, (uint64_t) address << 32, entry, bits, c);                                          \
    }
LOOKUP(lookup_plain, slots[b])
LOOKUP(lookup_acquire, __atomic_load_n(&slots[b], __ATOMIC_ACQUIRE))

/* Poptrie.firstStep: a direct entry -> LEAF + leaf index, or the final value of a node walk */
static inline int32_t first_step(const table *t, int32_t entry, uint32_t address, int c) {
    if (__builtin_expect(entry >= 0, 1)) {
        uint64_t leafvec = load64(t->slots + entry);
        return LEAF + entry + 1 + __builtin_popcountll(leafvec & upto(c));
    }
    const uint64_t *nodes = t->nodes;
    int node = (entry & NODE_INDEX) * 3;
    uint64_t vector = nodes[node];
    return (vector >> c & 1) == 0
            ? LEAF + (int32_t) nodes[node + 2] + __builtin_popcountll(nodes[node + 1] & upto(c)) - 1
            : descend(t, (uint64_t) address << 32, 0, node, t->bits, c, vector);
}

/* Poptrie.lookup(Table, int[], int[], int): three passes over the batch */
static inline void lookup_batch(const table *t, const uint32_t *addresses, int32_t *results, int count) {
    const int32_t *slots = t->slots;
    int bits = t->bits;
    for (int i = 0; i < count; i++) results[i] = slots[(addresses[i] >> (31 - bits)) >> 1];
    for (int i = 0; i < count; i++)
        results[i] = first_step(t, results[i], addresses[i], (int) ((uint32_t) (addresses[i] << bits) >> 26));
    for (int i = 0; i < count; i++) {
        int32_t r = results[i];
        if (r < NO_ROUTE) results[i] = slots[r - LEAF];
    }
}

static volatile uint64_t sink;

#define SINGLE(NAME, LOOKUP_FN)                                                                                  \
    static __attribute__((noinline, optimize("no-tree-vectorize"))) uint64_t NAME(const table *t,              \
            const uint32_t *keys, size_t n) {                                                                   \
        const int32_t *slots = t->slots;                                                                        \
        int bits = t->bits;                                                                                     \
        uint64_t sum = 0;                                                                                       \
        for (size_t i = 0; i < n; i++) sum += (uint32_t) LOOKUP_FN(t, slots, bits, keys[i]);                    \
        return sum;                                                                                             \
    }
SINGLE(pass_plain, lookup_plain)
SINGLE(pass_acquire, lookup_acquire)

/* acquire, with the table's fields read from the table each lookup, as C2 compiles the Java loop: loads after an
   acquire may not move above it, so each lookup reloads directBits and slots from the View */
static __attribute__((noinline, optimize("no-tree-vectorize"))) uint64_t pass_reload(const table *t,
        const uint32_t *keys, size_t n) {
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) sum += (uint32_t) lookup_acquire(t, t->slots, t->bits, keys[i]);
    return sum;
}

/* Decomposition, not lookups: the first level alone (the direct entry of each key, summed) */
static __attribute__((noinline, optimize("no-tree-vectorize"))) uint64_t pass_direct(const table *t,
        const uint32_t *keys, size_t n) {
    const int32_t *slots = t->slots;
    int bits = t->bits;
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) sum += (uint32_t) slots[(keys[i] >> (31 - bits)) >> 1];
    return sum;
}

/* ... and the second level alone: the record and leaf of each key from its direct entry, precomputed in a
   sequential array (streamed, prefetched), so the dependent direct-array miss is gone from each lookup */
static const int32_t *entries;
static __attribute__((noinline, optimize("no-tree-vectorize"))) uint64_t pass_records(const table *t,
        const uint32_t *keys, size_t n) {
    const int32_t *slots = t->slots;
    int bits = t->bits;
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t entry = entries[i];
        int c = (int) ((uint32_t) (keys[i] << bits) >> (32 - STRIDE));
        sum += (uint32_t) slots[entry + 1 + __builtin_popcountll(load64(slots + entry) & upto(c))];
    }
    return sum;
}

static __attribute__((noinline)) uint64_t pass_batch(const table *t, const uint32_t *keys, size_t n) {
    int32_t results[BULK];
    uint64_t sum = 0;
    for (size_t i = 0; i + BULK <= n; i += BULK) {
        lookup_batch(t, keys + i, results, BULK);
        for (int j = 0; j < BULK; j++) sum += (uint32_t) results[j];
    }
    return sum;
}

typedef uint64_t (*pass_fn)(const table *, const uint32_t *, size_t);

/* One iteration: whole passes over the keys until SECONDS have passed; lookups per second (rte_lpm_bench's rule) */
static double iteration(pass_fn pass, const table *t, const uint32_t *keys, size_t n, size_t per_pass,
        double seconds) {
    uint64_t sum = 0, done = 0;
    double start = now(), end;
    do {
        sum += pass(t, keys, n);
        done += per_pass;
    } while ((end = now()) - start < seconds);
    sink += sum;
    return done / (end - start);
}

/* A copy of the arrays on 2 MiB transparent huge pages */
static table huge_copy(const table *t) {
    size_t slot_bytes = t->nslots * 4, node_bytes = t->nnodes * 8;
    size_t size = (slot_bytes + node_bytes + 64 + (2u << 20) - 1) & ~(size_t) ((2u << 20) - 1);
    size_t map = size + (2u << 20);
    char *raw = mmap(NULL, map, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) { perror("mmap"); exit(2); }
    char *p = (char *) (((uintptr_t) raw + (2u << 20) - 1) & ~(uintptr_t) ((2u << 20) - 1));
    if (madvise(p, size, MADV_HUGEPAGE) != 0) perror("madvise(MADV_HUGEPAGE)");
    memcpy(p, t->slots, slot_bytes);
    char *n = p + ((slot_bytes + 63) & ~(size_t) 63);
    memcpy(n, t->nodes, node_bytes);
    /* report how much of the mapping the kernel backs with huge pages */
    FILE *f = fopen("/proc/self/smaps", "r");
    char line[512];
    int in = 0;
    long huge_kb = -1;
    while (f && fgets(line, sizeof line, f)) {
        unsigned long from, to;
        if (sscanf(line, "%lx-%lx ", &from, &to) == 2 && strchr(line, '-') < strchr(line, ' ')) {
            in = from <= (uintptr_t) p && (uintptr_t) p < to;
        } else if (in && sscanf(line, "AnonHugePages: %ld kB", &huge_kb) == 1) {
            in = 0;
        }
    }
    if (f) fclose(f);
    fprintf(stderr, "huge: arrays %zu bytes, mapping %zu bytes, AnonHugePages %ld kB\n", slot_bytes + node_bytes,
            size, huge_kb);
    table h = *t;
    h.slots = (const int32_t *) p;
    h.nodes = (const uint64_t *) n;
    return h;
}

static void check(const table *t, const uint32_t *keys, size_t n, const int32_t *answers) {
    uint64_t hits = 0, sum = 0, node_keys = 0, mismatches = 0, node_blocks = 0;
    size_t direct = (size_t) 1 << t->bits;
    for (size_t b = 0; b < direct; b++) node_blocks += t->slots[b] < 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t a = keys[i];
        int32_t v = lookup_plain(t, t->slots, t->bits, a);
        node_keys += t->slots[(a >> (31 - t->bits)) >> 1] < 0;
        if (v != answers[i] && mismatches++ < 5)
            fprintf(stderr, "mismatch key %08x: c %d java %d\n", a, v, answers[i]);
        if (v != NO_ROUTE) { hits++; sum += (uint32_t) v; }
    }
    /* the batch lookup must answer the same */
    int32_t results[BULK];
    uint64_t batch_mismatches = 0;
    for (size_t i = 0; i + BULK <= n; i += BULK) {
        lookup_batch(t, keys + i, results, BULK);
        for (int j = 0; j < BULK; j++) batch_mismatches += results[j] != answers[i + j];
    }
    printf("table directBits=%d slots=%zu nodes=%zu (%zu node structs) bytes=%zu direct_blocks=%zu "
           "node_root_blocks=%llu\n", t->bits, t->nslots, t->nnodes, t->nnodes / 3, t->nslots * 4 + t->nnodes * 8,
           direct, (unsigned long long) node_blocks);
    printf("keys=%zu node_path_keys=%llu mismatches_vs_java=%llu batch_mismatches_vs_java=%llu\n", n,
           (unsigned long long) node_keys, (unsigned long long) mismatches, (unsigned long long) batch_mismatches);
    printf("check %llu %llu\n", (unsigned long long) hits, (unsigned long long) sum);
}

int main(int argc, char **argv) {
    if (argc < 5 && !(argc == 3 && strcmp(argv[2], "-") == 0)) {
        fprintf(stderr, "usage: poptrie_c_bench DUMP_DIR N SECONDS MODE... | poptrie_c_bench DUMP_DIR - "
                "(MODE: check single acquire reload batch direct records, each also with -huge)\n");
        return 2;
    }
    int iterations = argc > 3 ? atoi(argv[2]) : 0;
    double seconds = argc > 3 ? atof(argv[3]) : 0;
    size_t size;
    int32_t *dump = read_file(argv[1], "poptrie-v4.bin", &size);
    if (dump[0] != 0x50545231) { fprintf(stderr, "not a PoptrieDump file\n"); return 2; }
    table t = { .bits = dump[1], .nslots = (uint32_t) dump[2], .nnodes = (uint32_t) dump[3] };
    /* own copies, each 64-byte aligned (the JVM aligns array bodies to 16 bytes; slots start 16 bytes in) */
    int32_t *slots = aligned_alloc(64, (t.nslots * 4 + 63) / 64 * 64);
    memcpy(slots, dump + 4, t.nslots * 4);
    uint64_t *nodes = aligned_alloc(64, (t.nnodes * 8 + 64) / 64 * 64);
    memcpy(nodes, dump + 4 + t.nslots, t.nnodes * 8);
    free(dump);
    t.slots = slots;
    t.nodes = nodes;
    int32_t *k = read_file(argv[1], "keys-v4.bin", &size);
    size_t n = (uint32_t) k[0];
    const uint32_t *keys = (const uint32_t *) (k + 1);
    int32_t *a = read_file(argv[1], "answers-v4.bin", &size);
    const int32_t *answers = a + 1;
    table huge = { 0 };
    /* "-" for N: commands "MODE N SECONDS" on standard input, one a line, as rte_lpm_bench takes them, so that a
       driver can alternate the two processes every few seconds */
    int from_stdin = strcmp(argv[2], "-") == 0;
    char line[128], word[32];
    for (int m = 4;; m++) {
        const char *mode;
        if (from_stdin) {
            if (!fgets(line, sizeof line, stdin)) break;
            if (sscanf(line, "%31s %d %lf", word, &iterations, &seconds) < 1) continue;
            mode = word;
        } else {
            if (m >= argc) break;
            mode = argv[m];
        }
        if (strcmp(mode, "check") == 0) {
            check(&t, keys, n, answers);
            fflush(stdout);
            continue;
        }
        if (iterations < 1 || seconds <= 0) { fprintf(stderr, "bad command\n"); return 2; }
        int is_huge = strstr(mode, "huge") != NULL;
        if (is_huge && !huge.slots) huge = huge_copy(&t);
        const table *use = is_huge ? &huge : &t;
        pass_fn pass;
        size_t per_pass = n;
        if (strncmp(mode, "single", 6) == 0 || strcmp(mode, "huge") == 0) pass = pass_plain;
        else if (strncmp(mode, "acquire", 7) == 0) pass = pass_acquire;
        else if (strncmp(mode, "reload", 6) == 0) pass = pass_reload;
        else if (strncmp(mode, "direct", 6) == 0) pass = pass_direct;
        else if (strncmp(mode, "records", 7) == 0) {
            if (!entries) {
                int32_t *e = aligned_alloc(64, (n * 4 + 63) / 64 * 64);
                for (size_t i = 0; i < n; i++) {
                    e[i] = t.slots[(keys[i] >> (31 - t.bits)) >> 1];
                    if (e[i] < 0) { fprintf(stderr, "records: key %zu has a node root\n", i); return 2; }
                }
                entries = e;
            }
            pass = pass_records;
        }
        else if (strncmp(mode, "batch", 5) == 0) { pass = pass_batch; per_pass = n / BULK * BULK; }
        else { fprintf(stderr, "bad mode %s\n", mode); return 2; }
        printf("%s", mode);
        for (int i = 0; i < iterations; i++) {
            printf(" %.0f", iteration(pass, use, keys, n, per_pass, seconds));
            if (!from_stdin) fflush(stdout);
        }
        printf("\n");
        fflush(stdout);
    }
    return 0;
}
