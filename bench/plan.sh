#!/usr/bin/env bash
# Validating and planning a 200-job workflow, each job with a 3x3x3 matrix
# (5,400 job instances), process start included.
#
#   bash bench/plan.sh            # builds sluice in release mode first
#
# Writes docs/bench-plan.md with the figures and the exact commands.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
cargo build --release -q -p sluice
bin="$here/target/release/sluice"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 bench/gen_200_jobs.py "$work/repo"
command -v hyperfine >/dev/null || { echo "hyperfine is needed: apt-get install hyperfine" >&2; exit 2; }
cd "$work/repo"
"$bin" validate >/dev/null 2>&1
"$bin" plan Big --json > "$work/plan.json"
instances=$(python3 -c "import json;p=json.load(open('$work/plan.json'))[0];print(sum(len(j['instances']) for j in p['jobs']))")
hyperfine --warmup 3 --runs 30 --export-markdown "$work/results.md" \
  -n "sluice validate" "$bin validate" \
  -n "sluice plan Big --json" "$bin plan Big --json" \
  -n "sluice plan Big" "$bin plan Big" > "$work/hyperfine.txt"
{
  echo "# Benchmark: validating and planning a 200-job workflow"
  echo
  echo "Workload: \`bench/gen_200_jobs.py\` writes one workflow with 200 jobs, each with a"
  echo "3x3x3 matrix ($instances job instances in the plan), needs edges, expressions in"
  echo "names, runs-on, env and if. Measured $(date -u +%Y-%m-%d) on $(nproc) cores."
  echo
  echo "Command: \`bash bench/plan.sh\` (hyperfine, 3 warm-up runs, 30 runs each; process start included)."
  echo
  cat "$work/results.md"
} > "$here/docs/bench-plan.md"
cat "$here/docs/bench-plan.md"
