#!/usr/bin/env python3
"""bench/e2e/perf_stages.py PERF_SCRIPT_OUTPUT: a gateway's CPU samples (perf record -g) by stage of the path.

Reads the text of `perf script -F comm,tid,ip,sym,dso` (callchains, outermost frame last) of one process and
prints the share of its on-CPU samples per stage, per thread name, and the top leaf symbols. Unlike JFR, perf sees
time inside system calls (the kernel's half of TUN and socket I/O) and inside FFM critical downcalls; Java frames
are named when the JVM wrote /tmp/perf-PID.map (jcmd PID Compiler.perfmap) and walked when it runs with
-XX:+PreserveFramePointer.

A sample in the kernel belongs to the system call it runs under (the outermost matching frame); a sample in user
space to the innermost frame that names a stage.
"""
import collections
import re
import sys

KERNEL_STAGES = [
    ("TUN write (kernel: the host stack receives the packet)", ("tun_chr_write_iter", "tun_get_user")),
    ("TUN read (kernel)", ("tun_chr_read_iter", "tun_do_read")),
    ("socket send (kernel: UDP, IP, veth)", ("__sys_sendmmsg", "__sys_sendmsg", "__sys_sendto", "udp_sendmsg")),
    ("socket receive (kernel)", ("__sys_recvmmsg", "__sys_recvmsg", "__sys_recvfrom", "udp_recvmsg")),
    ("epoll / poll wait (kernel)", ("do_epoll_wait", "do_sys_poll", "do_epoll_pwait")),
    ("futex, sleep, scheduling (kernel)", ("futex_wait", "futex_wake", "do_futex", "hrtimer_nanosleep",
                                           "schedule", "__x64_sys_sched_yield")),
]
USER_STAGES = [
    # MASQUE's QUIC: quiche and BoringSSL in Netty's native library (packetization, AES-GCM, ACKs, congestion
    # control) and the Java side of Netty's QUIC and HTTP/3 codecs; before "ESP crypto", whose names BoringSSL
    # shares.
    ("QUIC (user: quiche, BoringSSL AES-GCM, Netty QUIC/HTTP3 codecs)",
     re.compile(r"netty_quiche|quiche|io\.netty\.handler\.codec\.(quic|http3)")),
    ("MASQUE framing (user: vnetd's HTTP datagrams, sessions, hand-off)", re.compile(r"dev\.vnetd\.\S*[Mm]asque")),
    ("ESP crypto (user: AES-GCM, GHASH)", re.compile(r"crypto|GaloisCounterMode|AESCrypt|aescrypt|ghash|gcm|"
                                                      r"chacha|poly1305|OutboundSa|InboundSa|Esp", re.I)),
    ("TUN read/write (user side)", re.compile(r"dev\.vnetd\.\S*Tun")),
    ("path (user: decap, classify, flow, LPM, encap)", re.compile(r"dev\.vnetd\.(dataplane\.(path|fib|nexthop|"
                                                                  r"packet|state)|flowtable)")),
    ("Netty channel and buffers (user)", re.compile(r"io\.netty")),
]
# Frames that name no stage themselves (stubs: AES and GHASH intrinsics, array copies), so their callers decide; a
# sample with nothing else on its stack is the JVM's own.
JVM = ("JVM runtime, GC, JIT (user)", re.compile(r"libjvm\.so|Interpreter|StubRoutines"))


def samples(lines):
    header, stack = None, []
    for line in lines:
        line = line.rstrip("\n")
        if not line.strip():
            if header is not None:
                yield header, stack
            header, stack = None, []
        elif line.startswith((" ", "\t")):
            stack.append(line.strip())
        else:
            header = line
    if header is not None:
        yield header, stack


def frame_symbol(frame):
    parts = frame.split(None, 1)
    return parts[1] if len(parts) > 1 else frame


def stage(stack):
    symbols = [frame_symbol(f) for f in stack]
    kernel = [s for s in symbols if "[kernel.kallsyms]" in s]
    for symbol in reversed(kernel):
        name = symbol.split("+", 1)[0].split(" ", 1)[0]
        for stage_name, functions in KERNEL_STAGES:
            if name in functions:
                return stage_name
    if symbols and "[kernel.kallsyms]" in symbols[0]:
        return "kernel other (interrupts, softirq, page faults)"
    for symbol in symbols:
        for stage_name, pattern in USER_STAGES:
            if pattern.search(symbol):
                return stage_name
    if any(JVM[1].search(symbol) for symbol in symbols):
        return JVM[0]
    return "user other (libc; stripped or unresolved binaries)"


def main():
    stages, threads, leaves = collections.Counter(), collections.Counter(), collections.Counter()
    by_thread = collections.defaultdict(collections.Counter)
    with open(sys.argv[1], errors="replace") as f:
        for header, stack in samples(f):
            thread = re.sub(r"[-#\d]+$", "", header.split()[0]) if header.split() else "?"
            name = stage(stack)
            stages[name] += 1
            threads[thread] += 1
            by_thread[thread][name] += 1
            leaves[frame_symbol(stack[0]) if stack else "?"] += 1
    total = sum(stages.values())
    print("== %d on-CPU samples, by stage" % total)
    if total == 0:
        return
    for name, count in stages.most_common():
        print("%8d  %5.1f %%  %s" % (count, 100.0 * count / total, name))
    print("-- by thread")
    for thread, count in threads.most_common(8):
        top = ", ".join("%s %.0f %%" % (n.split(" (")[0], 100.0 * c / count)
                        for n, c in by_thread[thread].most_common(4))
        print("%8d  %5.1f %%  %s: %s" % (count, 100.0 * count / total, thread, top))
    print("-- top leaf symbols")
    for symbol, count in leaves.most_common(20):
        print("%8d  %5.1f %%  %s" % (count, 100.0 * count / total, symbol[:110]))


if __name__ == "__main__":
    main()
