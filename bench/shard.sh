#!/usr/bin/env bash
# Sharding a pytest suite of 15 test files with known, uneven durations
# (12 s in all, the longest 2.4 s) into 4 matrix shards, after one
# recorded run: the slowest shard against the ideal (the larger of total/4
# and the longest file) for a split by count, Sluice's static split by
# measured durations, and its queue. Then the durations change (the files
# swap their lengths) and each mode runs again on the now stale history.
#
#   bash bench/shard.sh        # needs python3 with pytest
#
# Writes docs/bench-shard.md with the figures and the exact commands.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
cargo build --release -q -p sluice
sluice="$here/target/release/sluice"
python3 -m pytest --version >/dev/null 2>&1 || { echo "pytest is needed: pip install pytest" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
repo="$work/repo"
out="$work/out"
mkdir -p "$repo/tests" "$repo/.sluice/workflows" "$out"
cd "$repo"
git init -q -b main
durations=(2.4 1.8 1.5 1.2 1.0 0.9 0.8 0.6 0.5 0.4 0.3 0.2 0.2 0.1 0.1)
write_tests() {   # $1: "forward" or "reversed"
  local count=${#durations[@]}
  for i in "${!durations[@]}"; do
    local d=${durations[$i]}
    [ "$1" = reversed ] && d=${durations[$((count - 1 - i))]}
    printf 'import time\n\n\ndef test_work():\n    time.sleep(%s)\n' "$d" > "tests/test_$(printf %02d "$i").py"
  done
}
write_tests forward
printf 'reports/\n__pycache__/\n.sluice/state/\n' > .gitignore
cat > .sluice/workflows/shard.yml <<'YAML'
on: push
jobs:
  test:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        shard: [1, 2, 3, 4]
    steps:
      - run: |
          pytest_run() { python3 -m pytest -q -p no:cacheprovider -o junit_family=xunit1 "$@"; }
          start=$(date +%s%N)
          case "$MODE" in
            overhead)
              pytest_run --junitxml=reports/junit.xml tests/test_00.py --deselect tests/test_00.py::test_work || [ $? -eq 5 ] ;;
            count)
              pytest_run --junitxml=reports/junit.xml $(ls tests/test_*.py | awk 'NR % 4 == ${{ matrix.shard }} % 4') ;;
            static)
              pytest_run --junitxml=reports/junit.xml $("$SLUICE_BIN" tests shard --total 4 --index ${{ matrix.shard }} 'tests/test_*.py') ;;
            queue)
              n=0
              while batch=$("$SLUICE_BIN" tests shard --queue --total 4 --index ${{ matrix.shard }} 'tests/test_*.py'); [ -n "$batch" ]; do
                n=$((n + 1)); pytest_run --junitxml=reports/junit-$n.xml $batch || exit 1
              done ;;
          esac
          end=$(date +%s%N)
          echo "${{ matrix.shard }} $(( (end - start) / 1000000 ))" >> "$BENCH_OUT/$LABEL"
        reports:
          junit: [reports/*.xml]
YAML
git add -A && git -c user.name=bench -c user.email=bench@example.invalid commit -q -m suite
run() {   # $1: label, $2: mode
  SLUICE_BIN="$sluice" BENCH_OUT="$out" LABEL="$1" MODE="$2" "$sluice" run shard --jobs 4 > "$work/$1.log" 2>&1 \
    || { cat "$work/$1.log" >&2; exit 1; }
}
run recorded count
run overhead overhead
run count count
run static static
run queue queue
# The durations change; the history still has the old ones.
write_tests reversed
git add -A && git -c user.name=bench -c user.email=bench@example.invalid commit -q -m swapped
cp -a .sluice/state "$work/state-before"
run stale-count count
run stale-static static
rm -rf .sluice/state && cp -a "$work/state-before" .sluice/state
run stale-queue queue
python3 - "$out" "${durations[@]}" > "$here/docs/bench-shard.md" <<'PY'
import datetime, os, sys
out, durations = sys.argv[1], [float(d) for d in sys.argv[2:]]
overhead = sorted(int(l.split()[1]) for l in open(os.path.join(out, "overhead")))[1:3]
overhead = sum(overhead) / len(overhead) / 1000
ideal = max(sum(durations) / 4, max(durations)) + overhead
def slowest(label):
    times = [int(line.split()[1]) for line in open(os.path.join(out, label))]
    assert len(times) == 4, (label, times)
    return max(times) / 1000, min(times) / 1000
print("# Benchmark: sharding a test suite by measured durations\n")
print(f"Measured {datetime.date.today()} on {os.cpu_count()} cores with `bash bench/shard.sh` (release build).\n")
print(f"The suite: {len(durations)} pytest files that sleep {', '.join(map(str, durations))} s ({sum(durations):.1f} s in all),")
print("run as a 4-shard matrix (`--jobs 4`) after one recorded run. Each shard's wall time is measured around")
print("its pytest commands. The ideal is the larger of total / 4 and the longest file, plus what one pytest")
print(f"command costs with four starting at once on this machine ({overhead:.2f} s, measured in the same matrix")
print(f"with every test deselected): **{ideal:.2f} s**.\n")
print("| Split | History | Slowest shard | Fastest shard | Slowest / ideal |")
print("|---|---|---|---|---|")
rows = [("By count (files dealt out in turn)", "–", "count"),
        ("Sluice, static (`sluice tests shard`)", "fresh", "static"),
        ("Sluice, queue (`sluice tests shard --queue`)", "fresh", "queue"),
        ("By count", "durations changed", "stale-count"),
        ("Sluice, static", "stale", "stale-static"),
        ("Sluice, queue", "stale", "stale-queue")]
for name, history, label in rows:
    high, low = slowest(label)
    print(f"| {name} | {history} | {high:.2f} s | {low:.2f} s | {high / ideal:.2f} |")
print("\nThe static split is decided before any shard starts, from the durations of runs that finished before")
print("this one; the queue hands out the longest waiting files first, a batch at a time, so a shard that")
print("finishes early takes more, and stale durations cost it less. Each batch is a pytest command of its")
print("own, so the queue pays pytest's start-up once per batch.\n")
print("## Commands\n")
print("```sh\nbash bench/shard.sh\n# in each shard (static):\npytest $(sluice tests shard --total 4 --index ${{ matrix.shard }} 'tests/test_*.py')")
print("# in each shard (queue):\nwhile batch=$(sluice tests shard --queue --total 4 --index ${{ matrix.shard }} 'tests/test_*.py'); [ -n \"$batch\" ]; do pytest $batch; done\n```")
PY
cat "$here/docs/bench-shard.md"
