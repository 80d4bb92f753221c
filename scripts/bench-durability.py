#!/usr/bin/env python3
"""Measures what the binlog costs (issue 5's goals), Thermocline and Debian's redis-server in
the same run, each server started here on a loopback port with a throw-away data directory
(under --data-dir, default: the system's temporary directory) and stopped after its round.

Experiments:
  everysec  SET throughput with appendonly no and with appendonly yes + appendfsync everysec,
            for both servers, in interleaved rounds: the ratio everysec / no for each.
  always    The fsync rate of the data directory's disk (write 100 bytes + fsync, in a loop),
            then SETs from 50 clients with appendfsync always (pipeline 1): requests/s against
            the fsync rate, i.e. how many writes one fsync carries (group commit).
  hset      HSET of one field into a 100,000-field hash against HSET into a 10-field hash,
            Thermocline with appendonly yes (everysec), interleaved rounds.
  checkpoint  What checkpoints cost a sustained write load: Thermocline with appendonly yes
            (everysec), SETs over 1,000,000 keys, with no checkpoint during the run
            (checkpoint-interval 0, auto-aof-rewrite-percentage 0), with the default triggers,
            and with one a second (checkpoint-interval 1), interleaved rounds.
  tombstones  What the range tombstones of deleted split collections cost the reads of the
            others: cold HGETs of a split 100,000-field hash before and after 2,000 split hashes
            of 1,100 fields beside it are deleted (each delete is one range tombstone) and
            checkpointed (memtables flushed, so that the reads meet the tombstones in SST
            files).
  split     A 100,000-field hash stored whole (tiering-split-elements 0) against stored one
            RocksDB entry per element (the default): the time of a checkpoint after HSET of one
            field, and the latency of HGET of one field of the hash while it is cold (demoted
            again after each read when stored whole, which loads it), interleaved rounds.

Usage: scripts/bench-durability.py EXPERIMENT [--rounds 3] [--requests N] [--data-dir DIR]
                                   [--server-args '--opt value' (hset)]
The thermocline binary is $CARGO_TARGET_DIR/release/thermocline-server (cargo build --release).
"""

import argparse
import csv
import io
import os
import platform
import statistics
import subprocess
import tempfile
import time

from benchlib import Conn, binary

PORT = 7993


def start(kind, workdir, appendonly, fsync="everysec", extra=()):
    if kind == "redis":
        cmd = ["redis-server", "--port", str(PORT), "--bind", "127.0.0.1", "--save", "",
               "--dir", workdir, "--appendonly", appendonly, "--appendfsync", fsync]
    else:
        cmd = [binary(), "--port", str(PORT), "--bind", "127.0.0.1", "--dir", workdir,
               "--loglevel", "warning", "--appendonly", appendonly, "--appendfsync", fsync,
               *extra]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 30
    while time.time() < deadline:
        r = subprocess.run(["redis-cli", "-p", str(PORT), "ping"], capture_output=True, text=True)
        if r.stdout.strip() == "PONG":
            return proc
        time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"{kind} did not start")


def stop(proc):
    proc.kill()
    proc.wait()


def bench(requests, pipeline, clients=50, keys=100_000):
    cmd = ["redis-benchmark", "-p", str(PORT), "-t", "set", "-c", str(clients), "-n",
           str(requests), "-r", str(keys), "-d", "100", "-P", str(pipeline), "--csv", "-q"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    row = list(csv.DictReader(io.StringIO(out)))[-1]
    return float(row["rps"]), float(row["p99_latency_ms"])


def everysec(args):
    results = {}
    for r in range(args.rounds):
        for kind in ("thermocline", "redis"):
            for mode in ("no", "everysec"):
                with tempfile.TemporaryDirectory(dir=args.data_dir) as d:
                    proc = start(kind, d, "no" if mode == "no" else "yes")
                    try:
                        rps, p99 = bench(args.requests, 16)
                    finally:
                        stop(proc)
                results.setdefault((kind, mode), []).append(rps)
                print(f"round {r + 1} {kind} appendonly {mode}: {rps:.0f} SET/s p99 {p99} ms",
                      flush=True)
    print(f"\nMachine: {platform.node()}, {os.cpu_count()} cores; "
          f"redis-benchmark -t set -c 50 -n {args.requests} -r 100000 -d 100 -P 16, "
          f"{args.rounds} interleaved rounds, medians\n")
    print("| server | appendonly no | appendfsync everysec | ratio |")
    print("|---|---|---|---|")
    for kind in ("thermocline", "redis"):
        no = statistics.median(results[(kind, "no")])
        yes = statistics.median(results[(kind, "everysec")])
        print(f"| {kind} | {no:,.0f} | {yes:,.0f} | {yes / no:.2f} |")


def fsync_rate(directory, n=300):
    path = os.path.join(directory, "fsync-probe")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        t0 = time.time()
        for _ in range(n):
            os.write(fd, b"x" * 100)
            os.fsync(fd)
        return n / (time.time() - t0)
    finally:
        os.close(fd)
        os.unlink(path)


def always(args):
    rows = []
    for r in range(args.rounds):
        with tempfile.TemporaryDirectory(dir=args.data_dir) as d:
            rate = fsync_rate(d)
        for kind in ("thermocline", "redis"):
            with tempfile.TemporaryDirectory(dir=args.data_dir) as d:
                proc = start(kind, d, "yes", "always")
                try:
                    rps, p99 = bench(args.requests, 1)
                finally:
                    stop(proc)
            rows.append((kind, rate, rps, p99))
            print(f"round {r + 1}: disk {rate:.0f} fsyncs/s; {kind} appendfsync always: "
                  f"{rps:.0f} SET/s (p99 {p99} ms), {rps / rate:.1f} writes per fsync", flush=True)
    print(f"\nMachine: {platform.node()}, {os.cpu_count()} cores; "
          f"redis-benchmark -t set -c 50 -n {args.requests} -r 100000 -d 100 -P 1, medians\n")
    print("| server | fsyncs/s (one write each) | SET/s, appendfsync always | ratio |")
    print("|---|---|---|---|")
    for kind in ("thermocline", "redis"):
        mine = [row for row in rows if row[0] == kind]
        rate = statistics.median(x[1] for x in mine)
        rps = statistics.median(x[2] for x in mine)
        print(f"| {kind} | {rate:,.0f} | {rps:,.0f} | {rps / rate:.1f} |")


def preload_hashes():
    import socket
    with socket.create_connection(("127.0.0.1", PORT)) as s:
        f = s.makefile("rb")

        def cmd(*a):
            return b"*%d\r\n" % len(a) + b"".join(b"$%d\r\n%s\r\n" % (len(x), x) for x in a)

        batch = [cmd(b"HSET", b"big", b"f%d" % i, b"v") for i in range(100_000)]
        batch += [cmd(b"HSET", b"small", b"f%d" % i, b"v") for i in range(10)]
        s.sendall(b"".join(batch))
        for _ in batch:
            f.readline()


def hset(args):
    results = {"small": [], "big": []}
    for r in range(args.rounds):
        with tempfile.TemporaryDirectory(dir=args.data_dir) as d:
            proc = start("thermocline", d, "yes", extra=args.server_args.split())
            try:
                preload_hashes()
                for key in ("small", "big"):
                    # Random fields among 10 for the small hash (it stays small), among
                    # 100,000 for the big one.
                    spread = "10" if key == "small" else "100000"
                    cmd = ["redis-benchmark", "-p", str(PORT), "-c", "50", "-n", str(args.requests),
                           "-r", spread, "--csv", "-q", "HSET", key, "f__rand_int__", "x"]
                    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
                    rps = float(list(csv.DictReader(io.StringIO(out)))[-1]["rps"])
                    results[key].append(rps)
                    print(f"round {r + 1} HSET into the {key} hash: {rps:.0f}/s", flush=True)
            finally:
                stop(proc)
    small = statistics.median(results["small"])
    big = statistics.median(results["big"])
    print(f"\nMachine: {platform.node()}, {os.cpu_count()} cores; appendonly yes, appendfsync "
          f"everysec; redis-benchmark -c 50 -n {args.requests} -r 10|100000 HSET <key> "
          f"f__rand_int__ x, medians of {args.rounds} rounds\n")
    print("| hash | HSET/s |\n|---|---|")
    print(f"| 10 fields | {small:,.0f} |\n| 100,000 fields | {big:,.0f} |")
    print(f"\nratio big / small: {big / small:.2f}")


CHECKPOINT_SETTINGS = {
    "none": ("--checkpoint-interval", "0", "--auto-aof-rewrite-percentage", "0"),
    "default": (),
    "every second": ("--checkpoint-interval", "1", "--auto-aof-rewrite-percentage", "0"),
}


def checkpoint(args):
    results = {name: [] for name in CHECKPOINT_SETTINGS}
    for r in range(args.rounds):
        for name, extra in CHECKPOINT_SETTINGS.items():
            with tempfile.TemporaryDirectory(dir=args.data_dir) as d:
                proc = start("thermocline", d, "yes", extra=extra)
                try:
                    rps, p99 = bench(args.requests, 16, keys=1_000_000)
                    info = subprocess.run(["redis-cli", "-p", str(PORT), "INFO", "persistence"],
                                          capture_output=True, text=True).stdout
                    field = {k: v for k, _, v in (line.partition(":") for line in info.splitlines())}
                    n, written = int(field["checkpoints"]), int(field["checkpoint_entries_written"])
                    lock_us = int(field["checkpoint_shard_lock_max_us"])
                finally:
                    stop(proc)
            results[name].append((rps, n, written))
            print(f"round {r + 1} checkpoints {name}: {rps:.0f} SET/s (p99 {p99} ms), "
                  f"{n} checkpoints writing {written} entries, longest shard lock in the last "
                  f"one {lock_us} us", flush=True)
    print(f"\nMachine: {platform.node()}, {os.cpu_count()} cores; appendonly yes, everysec; "
          f"redis-benchmark -t set -c 50 -n {args.requests} -r 1000000 -d 100 -P 16, medians of "
          f"{args.rounds} rounds\n")
    none = statistics.median(x[0] for x in results["none"])
    print("| checkpoints | SET/s | ratio | checkpoints taken (median) | entries written (median) |")
    print("|---|---|---|---|---|")
    for name, rows in results.items():
        rps = statistics.median(x[0] for x in rows)
        print(f"| {name} | {rps:,.0f} | {rps / none:.2f} | {statistics.median(x[1] for x in rows):.0f} "
              f"| {statistics.median(x[2] for x in rows):,.0f} |")


SPLIT_SETTINGS = {
    "whole": ("--tiering-split-elements", "0"),
    "split": ("--tiering-split-elements", "1024"),
}


def take_checkpoint(c):
    """BGREWRITEAOF, waited for; returns its wall time in ms."""
    while c.info("persistence")["aof_rewrite_in_progress"] != "0":
        time.sleep(0.0005)
    before = int(c.info("persistence")["checkpoints"])
    started = time.perf_counter()
    c.call("BGREWRITEAOF")
    while int(c.info("persistence")["checkpoints"]) == before:
        time.sleep(0.0005)
    return (time.perf_counter() - started) * 1000


def split(args):
    import random
    rng = random.Random(1)
    results = {name: {"checkpoint": [], "hget": [], "elements": [], "disk": [], "load": []}
               for name in SPLIT_SETTINGS}
    for r in range(args.rounds):
        for name, extra in SPLIT_SETTINGS.items():
            with tempfile.TemporaryDirectory(dir=args.data_dir) as d:
                proc = start("thermocline", d, "yes", extra=(
                    *extra, "--checkpoint-interval", "0", "--auto-aof-rewrite-percentage", "0"))
                try:
                    c = Conn(PORT)
                    for i in range(0, 100_000, 1000):
                        c.call("HSET", "big", *[x for j in range(i, i + 1000)
                                                for x in (f"f{j}", f"{rng.getrandbits(128):032x}")])
                    take_checkpoint(c)
                    base = int(c.info("persistence")["checkpoint_elements_written"])
                    for _ in range(20):
                        c.call("HSET", "big", f"f{rng.randrange(100_000)}", "changed")
                        results[name]["checkpoint"].append(take_checkpoint(c))
                    written = int(c.info("persistence")["checkpoint_elements_written"]) - base
                    results[name]["elements"].append(written / 20)
                    # Changed, so that the demotion writes (a clean one would not).
                    c.call("HSET", "big", "f0", "changed again")
                    c.call("TIERING", "DEMOTE", "big")
                    # The record's size on disk (a split one's: header plus elements, plain).
                    status = c.call("TIERING", "STATUS", "big")
                    fields = dict(zip(status[::2], status[1::2]))
                    results[name]["disk"].append(fields[b"disk_bytes"])
                    for _ in range(200):
                        field = f"f{rng.randrange(100_000)}"
                        started = time.perf_counter()
                        c.call("HGET", "big", field)
                        results[name]["hget"].append((time.perf_counter() - started) * 1e6)
                        c.call("TIERING", "DEMOTE", "big")
                    # A whole load (HLEN needs the value), demoted again after each.
                    for _ in range(20):
                        started = time.perf_counter()
                        c.call("HLEN", "big")
                        results[name]["load"].append((time.perf_counter() - started) * 1000)
                        c.call("TIERING", "DEMOTE", "big")
                    c.close()
                finally:
                    stop(proc)
            row = results[name]
            print(f"round {r + 1} {name}: checkpoint median "
                  f"{statistics.median(row['checkpoint'][-20:]):.1f} ms, cold HGET median "
                  f"{statistics.median(row['hget'][-200:]):.0f} us", flush=True)
    print(f"\nMachine: {platform.node()}, {os.cpu_count()} cores; appendonly yes, everysec; a "
          f"hash of 100,000 fields of 32 random hex digits; per round 20 checkpoints after one HSET "
          f"each, 200 HGETs of random fields of the cold hash, 20 loads of the whole hash; "
          f"{args.rounds} rounds\n")
    print("| stored | checkpoint after one HSET, median | p90 | elements written per checkpoint "
          "| record size | cold HGET, median | p99 | whole load (HLEN), median |\n"
          "|---|---|---|---|---|---|---|---|")
    for name, row in results.items():
        cp, hg = sorted(row["checkpoint"]), sorted(row["hget"])
        print(f"| {name} | {statistics.median(cp):.1f} ms | {cp[int(len(cp) * 0.9)]:.1f} ms "
              f"| {statistics.median(row['elements']):.0f} "
              f"| {statistics.median(row['disk']) / 2**20:.2f} MiB | {statistics.median(hg):,.0f} us "
              f"| {hg[int(len(hg) * 0.99)]:,.0f} us | {statistics.median(row['load']):.1f} ms |")


def cold_hget_us(c, rng, n=500):
    times = []
    for _ in range(n):
        field = f"f{rng.randrange(100_000)}"
        started = time.perf_counter()
        c.call("HGET", "big", field)
        times.append((time.perf_counter() - started) * 1e6)
    return statistics.median(times), sorted(times)[int(n * 0.99)]


def tombstones(args):
    import random
    rng = random.Random(2)
    rows = []
    for r in range(args.rounds):
        with tempfile.TemporaryDirectory(dir=args.data_dir) as d:
            extra = ("--checkpoint-interval", "0", "--auto-aof-rewrite-percentage", "0")
            proc = start("thermocline", d, "yes", extra=extra)
            try:
                c = Conn(PORT)
                for i in range(0, 100_000, 1000):
                    c.call("HSET", "big", *[x for j in range(i, i + 1000)
                                            for x in (f"f{j}", f"{rng.getrandbits(128):032x}")])
                for k in range(2000):
                    c.call("HSET", f"gone{k}", *[x for j in range(1100) for x in (f"f{j}", "v")])
                take_checkpoint(c)
                c.call("TIERING", "DEMOTE", "big")
                c.call("TIERING", "FLUSH-MEMTABLES")
                before = cold_hget_us(c, rng)
                started = time.perf_counter()
                for k in range(2000):
                    c.call("DEL", f"gone{k}")
                take_checkpoint(c)
                deleted_ms = (time.perf_counter() - started) * 1000
                c.call("TIERING", "FLUSH-MEMTABLES")
                after = cold_hget_us(c, rng)
                c.close()
            finally:
                stop(proc)
        rows.append((before, after, deleted_ms))
        print(f"round {r + 1}: cold HGET median/p99 {before[0]:.0f}/{before[1]:.0f} us before, "
              f"{after[0]:.0f}/{after[1]:.0f} us after 2,000 deletes ({deleted_ms:.0f} ms for "
              f"the DELs and their checkpoint)", flush=True)
    print(f"\nMachine: {platform.node()}, {os.cpu_count()} cores; medians of {args.rounds} rounds\n")
    print("| cold HGET of a split hash | median | p99 |\n|---|---|---|")
    for i, name in enumerate(["before", "after 2,000 range tombstones"]):
        print(f"| {name} | {statistics.median(x[i][0] for x in rows):.0f} us "
              f"| {statistics.median(x[i][1] for x in rows):.0f} us |")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("experiment", choices=["everysec", "always", "hset", "checkpoint", "split",
                                           "tombstones"])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--requests", type=int, default=1_000_000)
    p.add_argument("--data-dir", default=None)
    p.add_argument("--server-args", default="",
                   help="more thermocline-server options for the hset experiment")
    args = p.parse_args()
    {"everysec": everysec, "always": always, "hset": hset,
     "checkpoint": checkpoint, "split": split,
     "tombstones": tombstones}[args.experiment](args)


if __name__ == "__main__":
    main()
