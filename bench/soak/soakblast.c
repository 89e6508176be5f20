/*
 * soakblast: the senders and sinks of bench/soak.sh, with counts an accountant can trust.
 *
 *   soakblast blast FILE SRC DST PORT PPS SECONDS
 *       send the datagrams of FILE (records: 2-byte big-endian length, then the bytes) round-robin from SRC to
 *       DST:PORT at PPS datagrams per second for SECONDS, in sendmmsg batches; a datagram counts as sent when the
 *       kernel accepted it (sendmmsg's return), so EAGAIN is retried, never counted.
 *   soakblast sink ADDR PORT SECONDS
 *       receive on ADDR:PORT with recvmmsg for SECONDS.
 * Both print "sent N" / "received N" once a second (cumulative, flushed) and once more at the end, so the soak
 * script can read the count of any minute. Build: cc -O2 -o soakblast soakblast.c. Only for loopback in the soak's
 * own network namespace.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 32
#define MAX_RECORDS 200000
#define MAX_LEN 2048

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct sockaddr_in address(const char *host, int port) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
        fprintf(stderr, "bad address %s\n", host);
        exit(2);
    }
    return a;
}

static int udp_socket(void) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    int big = 8 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    return fd;
}

static int blast(char **argv) {
    FILE *f = fopen(argv[2], "rb");
    if (!f) { perror(argv[2]); return 1; }
    static unsigned char data[MAX_RECORDS][MAX_LEN];
    static size_t lengths[MAX_RECORDS];
    int records = 0;
    unsigned char header[2];
    while (records < MAX_RECORDS && fread(header, 1, 2, f) == 2) {
        size_t len = (size_t) header[0] << 8 | header[1];
        if (len > MAX_LEN || fread(data[records], 1, len, f) != len) { fprintf(stderr, "bad record\n"); return 1; }
        lengths[records++] = len;
    }
    fclose(f);
    if (records == 0) { fprintf(stderr, "no records\n"); return 1; }
    struct sockaddr_in src = address(argv[3], 0);
    struct sockaddr_in dst = address(argv[4], atoi(argv[5]));
    double pps = atof(argv[6]), seconds = atof(argv[7]);
    int fd = udp_socket();
    if (bind(fd, (struct sockaddr *) &src, sizeof src) < 0) { perror("bind"); return 1; }
    if (connect(fd, (struct sockaddr *) &dst, sizeof dst) < 0) { perror("connect"); return 1; }
    struct mmsghdr m[BATCH];
    struct iovec iov[BATCH];
    memset(m, 0, sizeof m);
    unsigned long long sent = 0;
    int next = 0;
    double t0 = now(), end = t0 + seconds, report = t0 + 1;
    for (double t = t0; t < end; t = now()) {
        unsigned long long due = (unsigned long long) ((t - t0) * pps);
        if (sent >= due) {
            usleep(200);
        } else {
            int n = due - sent > BATCH ? BATCH : (int) (due - sent);
            for (int i = 0; i < n; i++) {
                int r = (next + i) % records;
                iov[i].iov_base = data[r];
                iov[i].iov_len = lengths[r];
                m[i].msg_hdr.msg_iov = &iov[i];
                m[i].msg_hdr.msg_iovlen = 1;
            }
            int k = sendmmsg(fd, m, n, 0);
            if (k > 0) {
                sent += k;
                next = (next + k) % records;
            } else if (errno != EAGAIN && errno != ENOBUFS && errno != ECONNREFUSED) {
                perror("sendmmsg");
                break;
            }
        }
        if (t >= report) {
            printf("sent %llu\n", sent);
            fflush(stdout);
            report += 1;
        }
    }
    printf("sent %llu\n", sent);
    return 0;
}

static int sink(char **argv) {
    struct sockaddr_in a = address(argv[2], atoi(argv[3]));
    double seconds = atof(argv[4]);
    int fd = udp_socket();
    struct timeval tv = {0, 100000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (bind(fd, (struct sockaddr *) &a, sizeof a) < 0) { perror("bind"); return 1; }
    static char bufs[BATCH][MAX_LEN * 5];
    struct mmsghdr m[BATCH];
    struct iovec iov[BATCH];
    memset(m, 0, sizeof m);
    for (int i = 0; i < BATCH; i++) {
        iov[i].iov_base = bufs[i];
        iov[i].iov_len = sizeof bufs[i];
        m[i].msg_hdr.msg_iov = &iov[i];
        m[i].msg_hdr.msg_iovlen = 1;
    }
    unsigned long long received = 0;
    double t0 = now(), end = t0 + seconds, report = t0 + 1;
    for (double t = t0; t < end; t = now()) {
        int n = recvmmsg(fd, m, BATCH, MSG_WAITFORONE, NULL);
        if (n > 0) {
            received += n;
        }
        if (t >= report) {
            printf("received %llu\n", received);
            fflush(stdout);
            report += 1;
        }
    }
    printf("received %llu\n", received);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 8 && !strcmp(argv[1], "blast")) return blast(argv);
    if (argc == 5 && !strcmp(argv[1], "sink")) return sink(argv);
    fprintf(stderr, "usage: soakblast blast FILE SRC DST PORT PPS SECONDS | sink ADDR PORT SECONDS\n");
    return 2;
}
