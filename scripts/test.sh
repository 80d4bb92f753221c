#!/usr/bin/env bash
# Runs the whole default test suite: unit tests, integration tests (each starts real servers on
# free loopback ports), the generated-docs checks and the protocol property tests. Extra
# arguments go to `cargo test`, e.g. ./scripts/test.sh --test fuzz_protocol
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
cargo test --workspace "$@"
