#!/usr/bin/env python3
"""bench/e2e/jfr_stages.py FILE.jfr [THREAD_PREFIX]: where a vnetd gateway's time goes, by stage of the path.

Reads a JFR recording (bench/run.sh e2e with E2E_PROFILE=1) through `jfr print --json` (the JDK's jfr on PATH) and
prints, for the threads whose name starts with THREAD_PREFIX (default "vnetd"): the samples of Java execution
(jdk.ExecutionSample: the thread ran Java code) and of native code (jdk.NativeMethodSample: the thread was in a
system call or a native library) grouped by stage, then the top frames and stacks of each.

A sample's stage is that of the innermost frame that names one, walking from the leaf toward the thread's root:
JDK and Netty buffer frames name none, so a copy inside the TUN read counts as TUN and one inside ESP as ESP.
"""
import collections
import json
import subprocess
import sys

# (stage, test on "package.Class.method"); the first stage whose test matches the innermost frame wins.
WAIT_METHODS = ("epollWait", "epollBusyWait", "ioUringEnter", "epoll_wait", "poll", "park")
STAGES = [
    ("wait (nothing to do)", lambda f: f.rsplit(".", 1)[-1] in WAIT_METHODS),
    ("ESP (AES-GCM, SA, anti-replay)", lambda f: f.startswith(("com.sun.crypto.", "javax.crypto.", "sun.security.",
                                                              "org.bouncycastle.", "dev.vnetd.crypto."))
        or ".path.Esp" in f),
    ("TUN read/write", lambda f: f.startswith("dev.vnetd.") and "Tun" in f.rsplit(".", 2)[-2]),
    ("socket (Netty UDP channel, sendmmsg/recvmsg)", lambda f: f.startswith((
        "io.netty.channel.epoll.", "io.netty.channel.uring.", "io.netty.channel.unix.", "io.netty.channel.nio.",
        "io.netty.channel.socket.", "sun.nio.ch.", "io.netty.channel.ChannelOutboundBuffer",
        "io.netty.channel.AbstractChannel", "io.netty.channel.DefaultChannelPipeline",
        "dev.vnetd.dataplane.transport.ChannelTxPort", "dev.vnetd.dataplane.transport.ListenerHandler"))),
    ("path (decap, classify, flow, LPM, encap)", lambda f: f.startswith((
        "dev.vnetd.dataplane.path.", "dev.vnetd.dataplane.fib.", "dev.vnetd.dataplane.nexthop.",
        "dev.vnetd.dataplane.packet.", "dev.vnetd.dataplane.state.", "dev.vnetd.flowtable."))),
    ("event loop (Netty tasks, scheduling)", lambda f: f.startswith((
        "io.netty.channel.SingleThread", "io.netty.util.concurrent.", "io.netty.channel.MultiThread"))),
]
UNCLASSIFIED = "other (JDK, Netty buffers outside a stage)"


def events(recording, kind):
    out = subprocess.run(["jfr", "print", "--json", "--stack-depth", "64", "--events", kind, recording],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)["recording"]["events"]


def frames(event):
    stack = event["values"].get("stackTrace") or {"frames": []}
    return ["%s.%s" % (f["method"]["type"]["name"].replace("/", "."), f["method"]["name"]) for f in stack["frames"]]


def thread_name(event):
    values = event["values"]
    thread = values.get("sampledThread") or values.get("eventThread") or {}
    return thread.get("javaName") or thread.get("osName") or "?"


def stage(stack):
    for frame in stack:
        for name, test in STAGES:
            if test(frame):
                return name
    return UNCLASSIFIED


def short(frame):
    cls, method = frame.rsplit(".", 1)
    return "%s.%s" % (cls.rsplit(".", 1)[-1], method)


def report(recording, kind, prefix):
    stages, leaves, stacks, threads = (collections.Counter() for _ in range(4))
    for event in events(recording, kind):
        name = thread_name(event)
        if not name.startswith(prefix):
            continue
        stack = frames(event)
        threads[name] += 1
        stages[stage(stack)] += 1
        leaves[short(stack[0]) if stack else "?"] += 1
        stacks[" < ".join(short(f) for f in stack[:4])] += 1
    total = sum(stages.values())
    print("== %s: %d samples of threads %s*: %s" % (kind, total, prefix, dict(threads)))
    if total == 0:
        return
    for name, count in stages.most_common():
        print("%8d  %5.1f %%  %s" % (count, 100.0 * count / total, name))
    print("-- top frames (leaf)")
    for frame, count in leaves.most_common(15):
        print("%8d  %5.1f %%  %s" % (count, 100.0 * count / total, frame))
    print("-- top stacks (4 frames)")
    for frames_, count in stacks.most_common(15):
        print("%8d  %5.1f %%  %s" % (count, 100.0 * count / total, frames_))


def main():
    recording = sys.argv[1]
    prefix = sys.argv[2] if len(sys.argv) > 2 else "vnetd"
    for kind in ("jdk.ExecutionSample", "jdk.NativeMethodSample"):
        report(recording, kind, prefix)


if __name__ == "__main__":
    main()
