#!/usr/bin/env bash
# Builds Thermocline in release mode and runs it with the default configuration
# (thermocline.conf: 127.0.0.1:6379, data under ./data). Extra arguments are passed on as
# option overrides, e.g. ./scripts/start.sh --port 6380
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
"$root/scripts/setup.sh"
if ! command -v cargo >/dev/null 2>&1 && [ -f "$HOME/.cargo/env" ]; then
    # shellcheck disable=SC1091
    . "$HOME/.cargo/env"
fi

# Builds live outside the clone so that fresh clones (and CI) reuse them.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/thermocline/target}"
cargo build --release --bin thermocline-server
exec "$CARGO_TARGET_DIR/release/thermocline-server" thermocline.conf "$@"
