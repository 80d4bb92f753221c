#!/usr/bin/env bash
# Installs what building and testing Thermocline needs on a Debian/Ubuntu machine, skipping
# whatever is already there: clang and libclang-dev (RocksDB's bindings, from the tiering
# milestone on), redis-tools and redis-server (redis-cli and compatibility checks). Runs
# `apt-get update` at most once, and only when something is missing. Rust itself comes from
# rustup (https://rustup.rs); this script only checks for it.
set -euo pipefail

log() { printf 'setup: %s\n' "$*"; }

# Package -> a command it provides (empty: check with dpkg only).
declare -A provides=(
    [clang]=clang
    [libclang-dev]=
    [redis-tools]=redis-cli
    [redis-server]=redis-server
)

missing=()
for pkg in clang libclang-dev redis-tools redis-server; do
    if dpkg -s "$pkg" >/dev/null 2>&1; then
        continue
    fi
    cmd="${provides[$pkg]}"
    if [ -n "$cmd" ] && command -v "$cmd" >/dev/null 2>&1; then
        continue
    fi
    missing+=("$pkg")
done

if [ "${#missing[@]}" -gt 0 ]; then
    if ! command -v apt-get >/dev/null 2>&1; then
        log "missing ${missing[*]} and apt-get is not available; install them by hand" >&2
        exit 1
    fi
    sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            sudo=(sudo)
        else
            log "missing ${missing[*]}; run this script as root or install sudo" >&2
            exit 1
        fi
    fi
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt_opts=(-o DPkg::Lock::Timeout=300 -q)
    "${sudo[@]}" apt-get "${apt_opts[@]}" update
    "${sudo[@]}" apt-get "${apt_opts[@]}" install -y --no-install-recommends "${missing[@]}"
    # Debian starts the packaged Redis as a service on port 6379, Thermocline's default port.
    # Nothing here needs that service (the comparison benchmark starts its own redis-server on
    # another port), so stop the one this script just installed.
    if [[ " ${missing[*]} " == *" redis-server "* ]] && command -v systemctl >/dev/null 2>&1 \
        && systemctl is-active --quiet redis-server 2>/dev/null; then
        log "stopping and disabling the redis-server service that was just installed (it holds port 6379)"
        "${sudo[@]}" systemctl disable --now redis-server || true
    fi
else
    log "system packages present (clang libclang-dev redis-tools redis-server)"
fi

# Rust: rustup installs cargo into ~/.cargo/bin, which a non-login shell may not have on PATH.
if ! command -v cargo >/dev/null 2>&1 && [ -f "$HOME/.cargo/env" ]; then
    # shellcheck disable=SC1091
    . "$HOME/.cargo/env"
fi
if ! command -v cargo >/dev/null 2>&1; then
    log "cargo not found. Install Rust with rustup (https://rustup.rs):" >&2
    log "  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y" >&2
    log "then open a new shell (or run: . \"\$HOME/.cargo/env\") and run this script again." >&2
    exit 1
fi
for component in rustfmt clippy; do
    sub="${component/rustfmt/fmt}"
    if ! cargo "$sub" --version >/dev/null 2>&1; then
        if command -v rustup >/dev/null 2>&1; then
            log "adding the $component component"
            rustup component add "$component"
        else
            log "cargo $sub is missing and rustup is not available to add it" >&2
            exit 1
        fi
    fi
done
log "$(cargo --version)"
