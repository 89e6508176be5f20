/*
 * rte_lpm_bench — the LPM yardstick of docs/performance.md, measured in the same run as vnetd's Poptrie:
 * DPDK's rte_lpm (DIR-24-8) built from a gen-routes.py table and looked up with gen-routes.py keys on one thread,
 * one key at a time (rte_lpm_lookup) or 64 at a time (rte_lpm_lookup_bulk).
 *
 *   rte_lpm_bench ROUTES KEYS        then, on standard input, one command per line:
 *     single N SECONDS   N iterations of single lookups, each whole passes over the keys for SECONDS
 *     bulk N SECONDS     the same with rte_lpm_lookup_bulk
 *     check              the answers: how many keys have a route, and the sum of their routes' values
 *   prints "build_s S" once built, then per command one line: "single|bulk R1 R2 ... RN" (lookups per second),
 *   "check HITS SUM" (the script compares it with the Poptrie's answers to the same keys, LpmAnswers.java).
 *
 * A command per line lets bench/cases/lpm.sh alternate rte_lpm's iterations with JMH forks of the Poptrie, so both
 * see the same load on a shared machine, and pay rte_lpm's build (minutes for 1 M routes) once. Route i's value is
 * i, as Ipv4Lpm.build gets it in the JMH benchmark. EAL runs on hugetlbfs 2 MiB pages (rte_lpm's own deployment;
 * the script reserves them) unless RTE_LPM_BENCH_NO_HUGE is set.
 *
 * Build: cc -O3 rte_lpm_bench.c $(pkg-config --cflags --libs libdpdk) -march=native
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lpm.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint32_t *read_keys(const char *path, size_t *count) {
    FILE *f = fopen(path, "r");
    if (!f) { perror(path); exit(2); }
    size_t cap = 1 << 20, n = 0;
    uint32_t *keys = malloc(cap * sizeof *keys);
    char line[128];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        struct in_addr a;
        if (inet_pton(AF_INET, line, &a) != 1) { fprintf(stderr, "%s: bad key '%s'\n", path, line); exit(2); }
        if (n == cap) keys = realloc(keys, (cap *= 2) * sizeof *keys);
        keys[n++] = ntohl(a.s_addr);
    }
    fclose(f);
    *count = n;
    return keys;
}

static struct rte_lpm *build(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) { perror(path); exit(2); }
    size_t lines = 0;
    char line[128];
    while (fgets(line, sizeof line, f)) lines++;
    rewind(f);
    struct rte_lpm_config config = { .max_rules = (uint32_t) lines + 16, .number_tbl8s = 1 << 12, .flags = 0 };
    struct rte_lpm *lpm = rte_lpm_create("bench", 0, &config);
    if (!lpm) { fprintf(stderr, "rte_lpm_create failed: %s\n", rte_strerror(rte_errno)); exit(2); }
    uint32_t value = 0;
    while (fgets(line, sizeof line, f)) {
        char *slash = strchr(line, '/');
        if (!slash) { fprintf(stderr, "%s: bad route '%s'\n", path, line); exit(2); }
        *slash = 0;
        struct in_addr a;
        if (inet_pton(AF_INET, line, &a) != 1) { fprintf(stderr, "%s: bad route '%s'\n", path, line); exit(2); }
        if (rte_lpm_add(lpm, ntohl(a.s_addr), (uint8_t) atoi(slash + 1), value++) != 0) {
            fprintf(stderr, "rte_lpm_add failed at route %u\n", value); exit(2);
        }
    }
    fclose(f);
    return lpm;
}

#define BULK 64

static volatile uint64_t sink;

/* One iteration: whole passes over the keys until SECONDS have passed; returns lookups per second. */
static double single(struct rte_lpm *lpm, const uint32_t *keys, size_t n, double seconds) {
    uint64_t sum = 0, done = 0;
    double start = now(), end;
    do {
        for (size_t i = 0; i < n; i++) {
            uint32_t hop = 0;
            rte_lpm_lookup(lpm, keys[i], &hop);
            sum += hop;
        }
        done += n;
    } while ((end = now()) - start < seconds);
    sink += sum;
    return done / (end - start);
}

static double bulk(struct rte_lpm *lpm, const uint32_t *keys, size_t n, double seconds) {
    uint64_t sum = 0, done = 0;
    uint32_t hops[BULK];
    double start = now(), end;
    do {
        for (size_t i = 0; i + BULK <= n; i += BULK) {
            rte_lpm_lookup_bulk(lpm, keys + i, hops, BULK);
            for (int j = 0; j < BULK; j++) sum += hops[j];
        }
        done += n / BULK * BULK;
    } while ((end = now()) - start < seconds);
    sink += sum;
    return done / (end - start);
}

int main(int argc, char **argv) {
    /* lcore 0 may run on either CPU, as the JMH fork may: neither side is pinned */
    char *eal[] = { "rte_lpm_bench", "--lcores", "0@(0,1)", "--no-pci", "--no-telemetry", "--log-level=error",
                    "--in-memory", "-m", "192", NULL };
    if (getenv("RTE_LPM_BENCH_NO_HUGE")) {
        eal[6] = "--no-huge";
    }
    if (argc != 3) {
        fprintf(stderr, "usage: rte_lpm_bench ROUTES KEYS (commands on standard input)\n");
        return 2;
    }
    if (rte_eal_init(9, eal) < 0) {
        fprintf(stderr, "rte_eal_init failed: %s\n", rte_strerror(rte_errno));
        return 2;
    }
    size_t n;
    uint32_t *keys = read_keys(argv[2], &n);
    double t = now();
    struct rte_lpm *lpm = build(argv[1]);
    printf("build_s %.3f\n", now() - t);
    fflush(stdout);
    char line[128], mode[16];
    int iterations;
    double seconds;
    while (fgets(line, sizeof line, stdin)) {
        if (strcmp(line, "check\n") == 0) {
            uint64_t hits = 0, sum = 0;
            for (size_t i = 0; i < n; i++) {
                uint32_t hop;
                if (rte_lpm_lookup(lpm, keys[i], &hop) == 0) {
                    hits++;
                    sum += hop;
                }
            }
            printf("check %llu %llu\n", (unsigned long long) hits, (unsigned long long) sum);
            fflush(stdout);
            continue;
        }
        if (sscanf(line, "%15s %d %lf", mode, &iterations, &seconds) != 3 || iterations < 1 || seconds <= 0
                || (strcmp(mode, "single") != 0 && strcmp(mode, "bulk") != 0)) {
            fprintf(stderr, "rte_lpm_bench: bad command '%s'\n", line);
            return 2;
        }
        int is_bulk = strcmp(mode, "bulk") == 0;
        printf("%s", mode);
        for (int i = 0; i < iterations; i++) {
            printf(" %.0f", is_bulk ? bulk(lpm, keys, n, seconds) : single(lpm, keys, n, seconds));
        }
        printf("\n");
        fflush(stdout);
    }
    rte_lpm_free(lpm);
    rte_eal_cleanup();
    return 0;
}
