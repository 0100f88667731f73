#!/usr/bin/env bash
# The server: how long from a signed push webhook to the run's first step
# starting (pushes one at a time), and how many queued one-step runs a
# server with two workers drains per second (a burst of dispatches).
# A real `sluice serve` on loopback, a bare origin and a clone to push from.
#
#   bash bench/server.sh     # needs python3 and git
#
# Writes docs/bench-server.md with the figures and the exact command.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
cargo build --release -q -p sluice
export SLUICE="$here/target/release/sluice"
work=$(mktemp -d)
export BENCH_WORK="$work"
trap 'pkill -f "$work/server" 2>/dev/null || true; rm -rf "$work"' EXIT
python3 "$here/bench/server_bench.py" > "$here/docs/bench-server.md"
cat "$here/docs/bench-server.md"
