#!/usr/bin/env python3
"""Measures what tiering costs and saves (the figures in docs/benchmarks.md, "Tiering").

Each experiment starts its own release thermocline-server on a loopback port with a throw-away
data directory, and stops it at the end.

  ram-per-key   RAM per cold key: N keys (16-byte names, 1 KiB values) written, every value
                demoted, then used memory and RSS per key (RocksDB's own memory is reported
                apart: it has its own budget).
  ceiling       The memory ceiling: sustained writes of 10 x maxmemory; peak RSS against
                1.15 x (maxmemory + the RocksDB profile's budget).
  set-rate      Sustained 1 KiB SETs while demoting, against pure-memory mode (tiering no), in
                interleaved rounds.
  get-uniform   Uniform random GETs over a dataset about 10 x maxmemory (most reads load a cold
                value): requests/s and p99.
  hot-p99       GET p99 on a hot key set alone, then with concurrent uniform reads of cold keys.

Usage: scripts/bench-tiering.py EXPERIMENT [--keys N] [--size BYTES] [--maxmemory BYTES]
                                [--rounds R] [--requests N] [--server-args '--opt value']
The binary is $CARGO_TARGET_DIR/release/thermocline-server (cargo build --release).
"""

import argparse
import csv
import io
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time

from benchlib import binary

PORT = 7991


class Server:
    def __init__(self, *extra):
        self.dir = tempfile.mkdtemp(prefix="tc-bench-")
        cmd = [binary(), "--port", str(PORT), "--bind", "127.0.0.1", "--dir", self.dir,
               "--loglevel", "warning", *extra]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if self.cmd("PING") == b"+PONG":
                    return
            except OSError:
                time.sleep(0.1)
        raise SystemExit("server did not start")

    def cmd(self, *args):
        with socket.create_connection(("127.0.0.1", PORT)) as s:
            s.sendall(encode(args))
            f = s.makefile("rb")
            return read_reply(f)

    def info(self, section):
        text = self.cmd("INFO", section).decode()
        out = {}
        for line in text.split("\r\n"):
            if ":" in line and not line.startswith("#"):
                k, v = line.split(":", 1)
                out[k] = v
        return out

    def rss(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return 0

    def stop(self):
        self.proc.kill()
        self.proc.wait()
        subprocess.run(["rm", "-rf", self.dir])


def encode(args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def read_reply(f):
    line = f.readline().rstrip(b"\r\n")
    if line[:1] == b"$":
        n = int(line[1:])
        if n < 0:
            return None
        data = f.read(n + 2)
        return data[:-2]
    return line


def load(n, size, start=0, pipeline=200):
    """Writes keys key:000000000000.. (16 bytes, the names redis-benchmark's -r uses) with
    `size`-byte values, pipelined; returns the number of error replies."""
    # One incompressible value for every key: each record is compressed on its own, so the
    # data on disk is as large as the data written (as in benches/rocksdb_direct.rs).
    value = random.Random(7).randbytes(size)
    errors = 0
    with socket.create_connection(("127.0.0.1", PORT)) as s:
        f = s.makefile("rb")
        i = start
        while i < start + n:
            batch = min(pipeline, start + n - i)
            s.sendall(b"".join(
                b"*3\r\n$3\r\nSET\r\n$16\r\nkey:%012d\r\n$%d\r\n%s\r\n" % (j, size, value)
                for j in range(i, i + batch)))
            for _ in range(batch):
                if f.readline()[:1] == b"-":
                    errors += 1
            i += batch
    return errors


def wait_all_cold(server, n, timeout=600):
    deadline = time.time() + timeout
    while time.time() < deadline:
        t = server.info("tiering")
        if int(t["hot_keys"]) == 0 or int(t["cold_keys"]) >= n:
            return t
        time.sleep(1)
    return server.info("tiering")


def ram_per_key(args):
    n = args.keys
    server = Server("--maxmemory", str(args.maxmemory))
    try:
        used0 = int(server.info("memory")["used_memory"])
        rss0 = server.rss()
        t0 = time.time()
        errors = load(n, 1024)
        print(f"loaded {n} keys in {time.time() - t0:.1f}s ({errors} errors)")
        # Now demote every value: the budget only just holds the keys.
        server.cmd("CONFIG", "SET", "maxmemory", "1")
        t = wait_all_cold(server, n)
        time.sleep(2)
        mem = server.info("memory")
        t = server.info("tiering")
        used, rss = int(mem["used_memory"]), server.rss()
        rocks = int(t["rocksdb_block_cache_usage"]) + int(t["rocksdb_memtable_bytes"])
        keys = int(server.info("keyspace")["db0"].split(",")[0].split("=")[1])
        print(f"keys {keys}, cold {t['cold_keys']}, hot {t['hot_keys']}")
        print(f"used_memory per key: {(used - used0) / keys:.1f} B (key names are 16 B)")
        print(f"RSS per key, RocksDB's memory ({rocks} B) excluded: "
              f"{(rss - rss0 - rocks) / keys:.1f} B; RSS {rss} B")
    finally:
        server.stop()


def ceiling(args):
    server = Server("--maxmemory", str(args.maxmemory), "--rocksdb-options-file", args.profile,
                    *args.server_args.split())
    peak = [0]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], server.rss())
            time.sleep(0.2)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        size = 16384
        n = args.maxmemory * 10 // size
        t0 = time.time()
        errors = load(n, size, pipeline=32)
        done.set()
        sampler.join()
        budget = int(server.info("tiering")["rocksdb_memory_budget"])
        ceiling_bytes = 1.15 * (args.maxmemory + budget)
        print(f"wrote {n} x {size} B = {n * size >> 20} MiB in {time.time() - t0:.1f}s "
              f"({errors} errors); peak RSS {peak[0] >> 20} MiB; ceiling 1.15 x "
              f"({args.maxmemory >> 20} MiB + {budget >> 20} MiB) = {ceiling_bytes / 2**20:.0f} MiB; "
              f"ratio {peak[0] / ceiling_bytes:.2f}")
    finally:
        done.set()
        server.stop()


def benchmark(test, n, keyspace, size=1024, pipeline=16, clients=50):
    cmd = ["redis-benchmark", "-p", str(PORT), "-t", test, "-n", str(n), "-r", str(keyspace),
           "-d", str(size), "-P", str(pipeline), "-c", str(clients), "--csv", "-q"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    row = list(csv.DictReader(io.StringIO(out)))[-1]
    return float(row["rps"]), float(row["p99_latency_ms"])


def set_rate(args):
    results = {"pure-memory": [], "tiering": []}
    for r in range(args.rounds):
        for mode in ("pure-memory", "tiering"):
            extra = (["--tiering", "no"] if mode == "pure-memory"
                     else ["--maxmemory", str(args.maxmemory), *args.server_args.split()])
            server = Server(*extra)
            try:
                if mode == "tiering":
                    # Fill to the limit first, so that demotion runs through the measured part.
                    load(args.maxmemory // 1024, 1024)
                rps, p99 = benchmark("set", args.requests, 10_000_000)
                demoted = server.info("tiering").get("demotions", "-")
                results[mode].append(rps)
                print(f"round {r} {mode}: {rps:.0f} SET/s, p99 {p99} ms, demotions {demoted}")
            finally:
                server.stop()
    med = {m: sorted(v)[len(v) // 2] for m, v in results.items()}
    print(f"median: pure-memory {med['pure-memory']:.0f}/s, tiering {med['tiering']:.0f}/s, "
          f"ratio {med['tiering'] / med['pure-memory']:.2f}")


def get_uniform(args):
    server = Server("--maxmemory", str(args.maxmemory), *args.server_args.split())
    try:
        n = args.keys
        load(n, args.size)
        wait = time.time() + 60
        while time.time() < wait and int(server.info("tiering")["demotion_queue_depth"]) > 0:
            time.sleep(0.5)
        t = server.info("tiering")
        print(f"{n} keys x {args.size} B, maxmemory {args.maxmemory >> 20} MiB: "
              f"cold {t['cold_keys']}, hot {t['hot_keys']}")
        for r in range(args.rounds):
            rps, p99 = benchmark("get", args.requests, n, pipeline=1)
            t = server.info("tiering")
            print(f"round {r}: {rps:.0f} GET/s, p99 {p99:.2f} ms; loads {t['loads']}, "
                  f"load p99 {t['load_latency_p99_us']} us")
    finally:
        server.stop()


def hot_p99(args):
    """GET p99 over a hot set (the first 1% of keys) alone, then while other clients read
    uniformly over every key (most of them cold)."""
    server = Server("--maxmemory", str(args.maxmemory), *args.server_args.split())
    try:
        n = args.keys
        hot = max(n // 100, 1000)
        load(n, args.size)
        # Read the hot set a few times: it is loaded and its access counters climb.
        for _ in range(3):
            benchmark("get", hot * 4, hot, pipeline=16)
        for r in range(args.rounds):
            _, alone = benchmark("get", args.requests, hot, pipeline=1, clients=20)
            cold = subprocess.Popen(
                ["redis-benchmark", "-p", str(PORT), "-t", "get", "-n", str(args.requests * 4),
                 "-r", str(n), "-c", "30", "-q"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1)
            _, mixed = benchmark("get", args.requests, hot, pipeline=1, clients=20)
            cold.kill()
            cold.wait()
            t = server.info("tiering")
            print(f"round {r}: hot GET p99 {alone:.3f} ms alone, {mixed:.3f} ms with cold "
                  f"traffic (ratio {mixed / alone:.2f}); loads {t['loads']}")
    finally:
        server.stop()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("experiment",
                   choices=["ram-per-key", "ceiling", "set-rate", "get-uniform", "hot-p99"])
    p.add_argument("--keys", type=int, default=1_000_000)
    p.add_argument("--size", type=int, default=4096)
    p.add_argument("--maxmemory", type=int, default=256 << 20)
    p.add_argument("--requests", type=int, default=1_000_000)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--profile", default="default")
    p.add_argument("--server-args", default="",
                   help="extra server options, e.g. '--tiering-promote-on second-hit'")
    args = p.parse_args()
    {"ram-per-key": ram_per_key, "ceiling": ceiling, "set-rate": set_rate,
     "get-uniform": get_uniform, "hot-p99": hot_p99}[args.experiment](args)


if __name__ == "__main__":
    sys.exit(main())
