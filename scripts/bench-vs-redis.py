#!/usr/bin/env python3
"""Runs redis-benchmark against thermocline-server and Debian's redis-server in the same run.

Both servers are started here on loopback ports with throw-away data directories, measured in
interleaved rounds (thermocline, redis, thermocline, redis, ...) to cancel machine drift, and
stopped at the end. Prints a markdown table of median requests/s and p99 latency per server,
with the Thermocline/Redis ratio.

Usage: scripts/bench-vs-redis.py [--rounds 3] [--requests 1000000] [--pipelines 1,16]
                                 [--tests set,get] [--clients 50] [--keyspace 100000] [--size 100]
(--keyspace 0 leaves out -r: every request uses redis-benchmark's fixed key, as the data-type
table in docs/benchmarks.md does; tests run in the order given, so put lpush before lpop.)
The thermocline binary is taken from $CARGO_TARGET_DIR/release (build it with
`cargo build --release` first).
"""

import argparse
import csv
import io
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def wait_port(port, timeout=20.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True)
        if r.stdout.strip() == "PONG":
            return
        time.sleep(0.1)
    raise SystemExit(f"server on port {port} did not start")


def start(kind, port, workdir):
    if kind == "redis":
        cmd = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "no", "--dir", workdir]
    else:
        target = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/thermocline/target"))
        binary = os.path.join(target, "release", "thermocline-server")
        if not os.path.exists(binary):
            raise SystemExit(f"{binary} not found: run cargo build --release first")
        cmd = [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", workdir, "--loglevel", "warning"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port)
    return proc


def run_bench(port, test, args, pipeline):
    cmd = ["redis-benchmark", "-p", str(port), "-t", test, "-c", str(args.clients), "-n", str(args.requests),
           "-d", str(args.size), "-P", str(pipeline), "--csv", "-q"]
    if args.keyspace > 0:
        cmd += ["-r", str(args.keyspace)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    # LRANGE tests first report the LPUSH that fills the list: the last row is the test's own.
    row = rows[-1]
    return float(row["rps"]), float(row["p99_latency_ms"])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--requests", type=int, default=1_000_000)
    p.add_argument("--pipelines", default="1,16")
    p.add_argument("--tests", default="set,get")
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--keyspace", type=int, default=100_000)
    p.add_argument("--size", type=int, default=100)
    args = p.parse_args()
    for tool in ("redis-server", "redis-benchmark", "redis-cli"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is missing: apt-get install redis-server redis-tools")

    work = tempfile.mkdtemp(prefix="bench-vs-redis-")
    servers = {"thermocline": 7390, "redis": 7391}
    procs = {}
    try:
        for name, port in servers.items():
            d = os.path.join(work, name)
            os.makedirs(d)
            procs[name] = start(name, port, d)
        results = {}  # (test, pipeline, server) -> [(rps, p99)]
        for rnd in range(args.rounds):
            for pipeline in [int(x) for x in args.pipelines.split(",")]:
                for test in args.tests.split(","):
                    order = list(servers) if rnd % 2 == 0 else list(reversed(servers))
                    for name in order:
                        rps, p99 = run_bench(servers[name], test, args, pipeline)
                        results.setdefault((test, pipeline, name), []).append((rps, p99))
                        print(f"round {rnd + 1} {test} P{pipeline} {name}: {rps:.0f} rps p99 {p99:.3f} ms",
                              file=sys.stderr, flush=True)
    finally:
        for proc in procs.values():
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(work, ignore_errors=True)

    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    redis_version = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout.split()[2]
    print(f"Machine: {platform.node()}, {os.cpu_count()} cores ({cpu}), {platform.platform()}; Redis {redis_version}")
    keyspace = f"-r {args.keyspace} " if args.keyspace > 0 else ""
    print(f"Command: redis-benchmark -t <test> -c {args.clients} -n {args.requests} {keyspace}"
          f"-d {args.size} -P <pipeline>, {args.rounds} interleaved rounds, medians\n")
    print("| test | pipeline | thermocline rps | redis rps | ratio | thermocline p99 ms | redis p99 ms |")
    print("|---|---|---|---|---|---|---|")
    for pipeline in [int(x) for x in args.pipelines.split(",")]:
        for test in args.tests.split(","):
            t = results[(test, pipeline, "thermocline")]
            r = results[(test, pipeline, "redis")]
            t_rps, r_rps = statistics.median(x[0] for x in t), statistics.median(x[0] for x in r)
            t_p99, r_p99 = statistics.median(x[1] for x in t), statistics.median(x[1] for x in r)
            print(f"| {test.upper()} | {pipeline} | {t_rps:,.0f} | {r_rps:,.0f} | {t_rps / r_rps:.2f} | "
                  f"{t_p99:.3f} | {r_p99:.3f} |")


if __name__ == "__main__":
    main()
