#!/usr/bin/env bash
# Planning a call graph against the same jobs written inline: 50 jobs in
# one workflow, and the same 50 jobs reached through reusable workflows
# (5 calls of a workflow of 10 jobs, one call nesting another), process
# start included.
#
#   bash bench/plan-calls.sh      # builds sluice in release mode first
#
# Writes docs/bench-plan-calls.md with the figures and the exact commands.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
cargo build --release -q -p sluice
bin="$here/target/release/sluice"
command -v hyperfine >/dev/null || { echo "hyperfine is needed: apt-get install hyperfine" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
repo="$work/repo"
mkdir -p "$repo/.github/workflows"
python3 - "$repo/.github/workflows" <<'PY'
import sys, pathlib
out = pathlib.Path(sys.argv[1])
def job(name, needs=None, indent="  "):
    lines = [f"{indent}{name}:", f"{indent}  runs-on: ubuntu-latest"]
    if needs:
        lines.append(f"{indent}  needs: {needs}")
    lines += [f"{indent}  env: {{STAGE: \"${{{{ github.ref }}}}-{name}\"}}",
              f"{indent}  steps:",
              f"{indent}    - run: echo {name} $STAGE",
              f"{indent}    - run: echo done"]
    return "\n".join(lines)
# Inline: 5 groups of 10 jobs, each group a chain of two layers.
inline = ["name: inline", "on: push", "jobs:"]
for g in range(5):
    for j in range(10):
        needs = f"g{g}j0" if j else None
        inline.append(job(f"g{g}j{j}", needs))
(out / "inline.yml").write_text("\n".join(inline) + "\n")
# Called: one workflow of 10 jobs, called 5 times (once nested).
called = ["on:", "  workflow_call:", "    inputs:", "      group: {type: string, required: true}", "jobs:"]
for j in range(10):
    called.append(job(f"j{j}", "j0" if j else None))
(out / "group.yml").write_text("\n".join(called) + "\n")
(out / "outer.yml").write_text("on:\n  workflow_call:\njobs:\n  inner:\n    uses: ./.github/workflows/group.yml\n    with: {group: nested}\n")
calls = ["name: calls", "on: push", "jobs:"]
for g in range(4):
    calls += [f"  g{g}:", "    uses: ./.github/workflows/group.yml", f"    with: {{group: g{g}}}"]
calls += ["  g4:", "    uses: ./.github/workflows/outer.yml"]
(out / "calls.yml").write_text("\n".join(calls) + "\n")
PY
cd "$repo"
git init -q -b main && git add -A && git -c user.name=bench -c user.email=bench@example.invalid commit -qm bench
inline_jobs=$("$bin" plan inline --json | python3 -c "import json,sys;print(len(json.load(sys.stdin)[0]['jobs']))")
call_jobs=$("$bin" plan calls --json | python3 -c "import json,sys;print(sum(1 for j in json.load(sys.stdin)[0]['jobs'] if 'call' not in j))")
hyperfine --warmup 3 --runs 40 --export-json "$work/results.json" \
  -n "inline (50 jobs)" "$bin plan inline --json" \
  -n "calls (50 called jobs)" "$bin plan calls --json" > "$work/hyperfine.txt"
python3 - "$work/results.json" "$inline_jobs" "$call_jobs" > "$here/docs/bench-plan-calls.md" <<'PY'
import json, statistics, sys, datetime, os
results = json.load(open(sys.argv[1]))["results"]
inline, calls = results
def ms(r): return statistics.median(r["times"]) * 1000
print("# Benchmark: planning a call graph against the same jobs inline\n")
print(f"Measured {datetime.date.today()} on {os.cpu_count()} cores with `bash bench/plan-calls.sh`")
print("(hyperfine, 3 warm-up runs, 40 runs each; process start included).\n")
print(f"- `inline.yml`: {sys.argv[2]} jobs written in one workflow.")
print(f"- `calls.yml`: 5 calls of a 10-job reusable workflow (one through a nested call): {sys.argv[3]} called jobs, plus the callers.\n")
print("| Workflow | Median | Mean ± σ |")
print("|---|---|---|")
for r in results:
    print(f"| {r['command']} | {ms(r):.1f} ms | {r['mean']*1000:.1f} ± {r['stddev']*1000:.1f} ms |")
print(f"\nRatio calls / inline (medians): **{ms(calls)/ms(inline):.2f}**.")
PY
cat "$here/docs/bench-plan-calls.md"
