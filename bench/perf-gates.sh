#!/usr/bin/env bash
# The evaluation of Sluice's regression detector against the seed's fixed
# 10% threshold on simulated benchmark series (noise 1/3/5%, 1 or 5
# repetitions, a per-run machine offset, spikes, steps of +2/5/10%).
#
#   bash bench/perf-gates.sh
#
# Writes docs/bench-perf-gates.md.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
cargo run --release -q -p sluice-reports --example perf_eval > docs/bench-perf-gates.md
cat docs/bench-perf-gates.md
