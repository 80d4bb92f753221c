"""What the benchmark scripts in this directory share."""

import os


def binary():
    """The release build of thermocline-server (cargo build --release), in $CARGO_TARGET_DIR
    or the default target directory of scripts/test.sh."""
    target = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/thermocline/target"))
    path = os.path.join(target, "release", "thermocline-server")
    if not os.path.exists(path):
        raise SystemExit(f"{path} not found: run cargo build --release first")
    return path


class Conn:
    """A minimal blocking RESP2 client for the benchmark scripts (no third-party module)."""

    def __init__(self, port, host="127.0.0.1"):
        import socket
        self.sock = socket.create_connection((host, port))
        self.file = self.sock.makefile("rb")

    def send(self, *args):
        parts = [a if isinstance(a, bytes) else str(a).encode() for a in args]
        self.sock.sendall(b"*%d\r\n" % len(parts)
                          + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts))

    def read(self):
        line = self.file.readline()
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.file.read(n + 2)
            return data[:-2]
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise RuntimeError(f"unexpected reply {line!r}")

    def call(self, *args):
        self.send(*args)
        return self.read()

    def info(self, section):
        text = self.call("INFO", section).decode()
        return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)

    def close(self):
        self.sock.close()
