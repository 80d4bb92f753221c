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
