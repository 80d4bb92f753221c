#!/usr/bin/env python3
"""Measures a restart with most of the dataset cold (issue 5's restart goal): the keyspace is
rebuilt from RocksDB's index, one stub per key, without reading a value.

The server (release build, tiering on, appendonly yes) is started on a loopback port with a
throw-away data directory (under --data-dir, default: the system's temporary directory). It is
loaded with --keys keys (`key:<n>`, --value-bytes bytes each, through redis-cli --pipe); then
maxmemory is lowered until --cold of the values have gone to RocksDB. Two restarts are timed:

  clean   SHUTDOWN (its last checkpoint writes what is dirty), then a start: the log's
          "keyspace rebuilt" line gives the rebuild time; the time until PING answers (no
          more -LOADING) is the whole start.
  crash   BGREWRITEAOF, --tail more SETs after it, SIGKILL, then a start: the rebuild plus the
          replay of the binlog after the checkpoint.

After each start a sample of keys is read back and checked, and INFO tiering must show no value
loaded during the start.

Usage: scripts/bench-restart.py [--keys 10000000] [--value-bytes 100] [--cold 0.9]
                                [--tail 100000] [--data-dir DIR]
The binary is $CARGO_TARGET_DIR/release/thermocline-server (cargo build --release).
"""

import argparse
import os
import platform
import random
import re
import subprocess
import tempfile
import time

from benchlib import binary

PORT = 7994


def cli(*args):
    r = subprocess.run(["redis-cli", "-p", str(PORT), *args], capture_output=True, text=True)
    return r.stdout.strip()


def info(section):
    fields = {}
    for line in cli("INFO", section).splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            fields[k] = v.strip()
    return fields


class Server:
    def __init__(self, workdir, extra=()):
        self.log_path = os.path.join(workdir, f"server-{time.time_ns()}.log")
        self.log = open(self.log_path, "w")
        cmd = [binary(), "--port", str(PORT), "--bind", "127.0.0.1", "--dir", workdir,
               "--appendonly", "yes", "--tiering", "yes", *extra]
        self.started = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)
        self.ready_after = self.wait_ready()

    def wait_ready(self):
        """Seconds from the process start until PING answers PONG (not -LOADING)."""
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            if cli("PING") == "PONG":
                return time.monotonic() - self.started
            if self.proc.poll() is not None:
                raise SystemExit(f"the server exited: see {self.log_path}")
            time.sleep(0.02)
        raise SystemExit("the server did not become ready")

    def log_text(self):
        with open(self.log_path) as f:
            return f.read()

    def kill(self):
        self.proc.kill()
        self.proc.wait()

    def shutdown(self):
        cli("SHUTDOWN")
        self.proc.wait(timeout=600)


def resp(*parts):
    out = [f"*{len(parts)}\r\n".encode()]
    for p in parts:
        out.append(f"${len(p)}\r\n".encode() + p + b"\r\n")
    return b"".join(out)


def value(i, size):
    v = f"value:{i}:".encode()
    return (v * (size // len(v) + 1))[:size]


def load(first, count, size):
    """SETs key:<first>..key:<first+count-1> through redis-cli --pipe."""
    pipe = subprocess.Popen(["redis-cli", "-p", str(PORT), "--pipe"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    batch = []
    for i in range(first, first + count):
        batch.append(resp(b"SET", f"key:{i}".encode(), value(i, size)))
        if len(batch) == 10_000:
            pipe.stdin.write(b"".join(batch))
            batch = []
    pipe.stdin.write(b"".join(batch))
    pipe.stdin.close()
    out = pipe.stdout.read().decode()
    pipe.wait()
    if "errors: 0" not in out:
        raise SystemExit(f"loading failed: {out}")


def check_sample(keys, size, samples=200):
    for i in random.sample(range(keys), min(samples, keys)):
        got = subprocess.run(["redis-cli", "-p", str(PORT), "GET", f"key:{i}"],
                             capture_output=True).stdout.rstrip(b"\n")
        if got != value(i, size):
            raise SystemExit(f"key:{i} came back wrong: {got[:40]!r}")


def rebuilt(log):
    m = re.search(r"keyspace rebuilt from the checkpoint of Unix ms \d+: (\d+) keys in ([0-9.]+) seconds", log)
    return (int(m.group(1)), float(m.group(2))) if m else (0, 0.0)


def replayed(log):
    m = re.search(r"DB loaded from the binlog: (\d+) records, (\d+) bytes from offset \d+ in ([0-9.]+) seconds", log)
    return (int(m.group(1)), float(m.group(3))) if m else (0, 0.0)


def report(kind, server, keys):
    log = server.log_text()
    n, secs = rebuilt(log)
    records, replay_secs = replayed(log)
    t = info("tiering")
    print(f"{kind}: rebuilt {n} keys in {secs:.2f} s ({n / max(secs, 1e-9):,.0f} keys/s); "
          f"replayed {records} records in {replay_secs:.2f} s; ready (PING) after "
          f"{server.ready_after:.2f} s; cold_keys {t['cold_keys']}, loads during start "
          f"{t['loads']}; RSS {rss(server.proc.pid) >> 20} MiB", flush=True)
    if int(t["loads"]) != 0:
        raise SystemExit("values were read during the start")
    if n < keys:
        raise SystemExit(f"only {n} of {keys} keys rebuilt")


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--keys", type=int, default=10_000_000)
    p.add_argument("--value-bytes", type=int, default=100)
    p.add_argument("--cold", type=float, default=0.9)
    p.add_argument("--tail", type=int, default=100_000)
    p.add_argument("--data-dir")
    args = p.parse_args()
    print(f"machine: {platform.node()}, {os.cpu_count()} cores; {args.keys} keys of "
          f"{args.value_bytes} bytes, {args.cold:.0%} cold", flush=True)
    with tempfile.TemporaryDirectory(dir=args.data_dir) as d:
        server = Server(d)
        try:
            started = time.monotonic()
            load(0, args.keys, args.value_bytes)
            print(f"loaded in {time.monotonic() - started:.1f} s", flush=True)
            # Lower maxmemory until the wanted share of values is cold: a first guess from the
            # values' size, then corrected by what each demotion actually freed.
            full = int(info("memory")["used_memory"])
            want = int(args.keys * args.cold)
            limit = int(full - args.keys * (args.value_bytes + 16) * args.cold)
            started = time.monotonic()
            while True:
                cli("CONFIG", "SET", "maxmemory", str(limit))
                # Settled: the cold count has not moved for three seconds.
                counts = []
                while len(counts) < 4 or len(set(counts[-4:])) > 1 or counts[-1] == 0:
                    time.sleep(1)
                    counts.append(int(info("tiering")["cold_keys"]))
                    if time.monotonic() - started > 900:
                        raise SystemExit(f"demotion stalled: {counts[-1]} cold")
                cold = counts[-1]
                if cold >= want * 0.98:
                    break
                freed_each = max((full - int(info("memory")["used_memory"])) / cold, 16)
                limit -= int((want - cold) * freed_each)
            t = info("tiering")
            print(f"maxmemory {limit >> 20} MiB: {t['cold_keys']} cold keys after "
                  f"{time.monotonic() - started:.0f} s", flush=True)
            started = time.monotonic()
            server.shutdown()
            m = re.findall(r"checkpoint at binlog offset \d+: (\d+) entries written in ([0-9.]+) seconds",
                           server.log_text())
            print(f"SHUTDOWN took {time.monotonic() - started:.1f} s; its checkpoint wrote "
                  f"{m[-1][0]} entries in {m[-1][1]} s" if m else "no checkpoint logged", flush=True)
        except BaseException:
            server.kill()
            raise

        # Room for the tail's keys, which the stubs would otherwise leave no memory for.
        extra = ["--maxmemory", str(limit + args.tail * 1024)]
        server = Server(d, extra)
        try:
            report("clean", server, args.keys)
            check_sample(args.keys, args.value_bytes)
            before = int(info("persistence")["aof_rewrites"])
            cli("BGREWRITEAOF")
            while True:
                p = info("persistence")
                if p["aof_rewrite_in_progress"] == "0" and p["aof_rewrite_scheduled"] == "0" \
                        and int(p["aof_rewrites"]) > before:
                    break
                time.sleep(0.1)
            print(f"checkpoint after the restart (nothing changed): "
                  f"{p['aof_last_rewrite_time_sec']} s, longest shard lock "
                  f"{p['checkpoint_shard_lock_max_us']} us", flush=True)
            load(args.keys, args.tail, args.value_bytes)
            time.sleep(1.5)  # appendfsync everysec: the tail is on disk
        finally:
            server.kill()
        server = Server(d, extra)
        try:
            report("crash", server, args.keys)
            if int(cli("DBSIZE")) != args.keys + args.tail:
                raise SystemExit(f"DBSIZE {cli('DBSIZE')}, expected {args.keys + args.tail}")
            check_sample(args.keys + args.tail, args.value_bytes)
        finally:
            server.kill()


if __name__ == "__main__":
    main()
