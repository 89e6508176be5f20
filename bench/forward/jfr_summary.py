#!/usr/bin/env python3
"""bench/forward/jfr_summary.py FILE.jfr [THREAD_PREFIX]: where a vnetd worker's time and allocation go.

Reads a JFR recording of vnetd under load (bench/run.sh forward with FORWARD_JFR=1) through `jfr print --json`
(the JDK's jfr tool on PATH) and prints, for the threads whose name starts with THREAD_PREFIX (default
vnetd-worker): the top stacks of native samples (time in system calls), of Java execution samples with inclusive
counts per method, allocation by class and site (sample weights, bytes), thrown exceptions, the worker's CPU load
and allocated bytes, and the garbage collections.
"""
import collections
import json
import subprocess
import sys


def events(recording, kind):
    out = subprocess.run(["jfr", "print", "--json", "--stack-depth", "20", "--events", kind, recording],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)["recording"]["events"]


def frames(event):
    stack = event["values"].get("stackTrace") or {"frames": []}
    return ["%s.%s" % (f["method"]["type"]["name"].split("/")[-1], f["method"]["name"]) for f in stack["frames"]]


def thread_name(event):
    values = event["values"]
    thread = values.get("sampledThread") or values.get("eventThread") or values.get("thread") or {}
    return thread.get("javaName") or thread.get("osName") or "?"


def top(title, counter, limit=12):
    print("== %s" % title)
    for key, count in counter.most_common(limit):
        print("%12d  %s" % (count, key))


def main():
    recording = sys.argv[1]
    prefix = sys.argv[2] if len(sys.argv) > 2 else "vnetd-worker"
    for kind in ("jdk.NativeMethodSample", "jdk.ExecutionSample"):
        stacks, inclusive, total = collections.Counter(), collections.Counter(), 0
        for event in events(recording, kind):
            if thread_name(event).startswith(prefix):
                total += 1
                stack = frames(event)
                stacks[" < ".join(stack[:3])] += 1
                inclusive.update(set(stack))
        top("%s: %d samples, top stacks" % (kind, total), stacks)
        top("%s: inclusive per method" % kind, inclusive, 20)
    allocation, exceptions = collections.Counter(), collections.Counter()
    for event in events(recording, "jdk.ObjectAllocationSample"):
        if thread_name(event).startswith(prefix):
            site = " < ".join(frames(event)[:3])
            allocation["%s @ %s" % (event["values"]["objectClass"]["name"], site)] += event["values"]["weight"]
    top("allocation by class and site (bytes, sampled weight): total %d" % sum(allocation.values()), allocation)
    for event in events(recording, "jdk.JavaExceptionThrow"):
        if thread_name(event).startswith(prefix):
            exceptions[(event["values"].get("thrownClass") or {}).get("name")] += 1
    top("exceptions thrown", exceptions)
    print("== CPU load and allocation of %s*" % prefix)
    for event in events(recording, "jdk.ThreadCPULoad"):
        if thread_name(event).startswith(prefix):
            print("%s user %.3f system %.3f" % (event["values"]["startTime"], event["values"]["user"],
                                                event["values"]["system"]))
    for event in events(recording, "jdk.ThreadAllocationStatistics"):
        if thread_name(event).startswith(prefix):
            print("%s allocated %d" % (event["values"]["startTime"], event["values"]["allocated"]))
    print("== garbage collections")
    for event in events(recording, "jdk.GarbageCollection"):
        values = event["values"]
        print("%s %s %s pauses %s" % (values["startTime"], values["name"], values["cause"], values["sumOfPauses"]))


if __name__ == "__main__":
    main()
