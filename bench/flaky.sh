#!/usr/bin/env bash
# Flaky detection over a history of one million test results: 2,000 tests
# over 500 runs of the default branch (20 commits, 25 runs each), in which
# 20 tests fail at random one run in five (flaky), 10 fail nearly always
# (broken), a few runs fail wholesale (an infrastructure failure) and the
# rest pass. Timed with hyperfine, peak memory with GNU time, through
# `sluice tests flaky --json`.
#
#   bash bench/flaky.sh        # needs hyperfine and /usr/bin/time (apt: hyperfine time)
#
# Writes docs/bench-flaky.md with the figures and the exact commands.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
cargo build --release -q -p sluice
sluice="$here/target/release/sluice"
command -v hyperfine >/dev/null || { echo "hyperfine is needed: apt-get install hyperfine" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "GNU time is needed: apt-get install time" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
repo="$work/repo"
mkdir -p "$repo" && cd "$repo"
git init -q -b main && git -c user.name=bench -c user.email=bench@example.invalid commit -q --allow-empty -m bench
"$sluice" runs > /dev/null   # makes the history (the schema) to fill
python3 - "$repo/.sluice/state/history.sqlite" "$(pwd -P)" <<'PY'
import random, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
repo = sys.argv[2]
random.seed(7)
tests, runs = 2000, 500
flaky = set(range(20))
broken = set(range(20, 30))
infrastructure = {100, 250, 400}
with db:
    db.executemany(
        "INSERT INTO tests (id, repository, suite, classname, name, file) VALUES (?, ?, 'pytest', ?, ?, ?)",
        [(t + 1, repo, f"tests.test_mod_{t // 50}", f"test_case_{t}", f"tests/test_mod_{t // 50}.py")
         for t in range(tests)])
    for run in range(1, runs + 1):
        sha = f"{run // 25:040x}"
        tree = f"{run // 25 + 7:040x}"
        at = 1_790_000_000_000 + run * 60_000
        cur = db.execute(
            "INSERT INTO runs (repository, number, workflow, workflow_path, event, git_ref, sha, status,"
            " queued_at, started_at, finished_at, duration_ms) VALUES (?, ?, 'CI', '.github/workflows/ci.yml',"
            " 'push', 'refs/heads/main', ?, 'success', ?, ?, ?, 1000)", (repo, run, sha, at, at, at + 1000))
        run_id = cur.lastrowid
        rows = []
        for t in range(tests):
            if run in infrastructure:
                outcome = "error"
            elif t in flaky:
                outcome = "failed" if random.random() < 0.2 else "passed"
            elif t in broken:
                outcome = "failed" if random.random() < 0.97 else "passed"
            else:
                outcome = "passed"
            rows.append((run_id, t + 1, outcome, random.randint(1, 900), tree, at))
        db.executemany(
            "INSERT INTO test_results (run_id, test_id, job_key, step_index, attempt, outcome, duration_ms,"
            " repeats, tree, at) VALUES (?, ?, 'test', 0, 1, ?, ?, 1, ?, ?)", rows)
count = db.execute("SELECT COUNT(*) FROM test_results").fetchone()[0]
print(f"{count} results", file=sys.stderr)
PY
hyperfine --warmup 1 --runs 5 --export-json "$work/time.json" \
  -n "sluice tests flaky (1,000,000 results)" "$sluice tests flaky --json --days 36500 > /dev/null" > "$work/hyperfine.txt"
/usr/bin/time -f "%M" -o "$work/rss" "$sluice" tests flaky --json --days 36500 > "$work/findings.json"
python3 - "$work/time.json" "$(cat "$work/rss")" "$work/findings.json" > "$here/docs/bench-flaky.md" <<'PY'
import json, statistics, sys, datetime, os
result = json.load(open(sys.argv[1]))["results"][0]
findings = json.load(open(sys.argv[3]))
median = statistics.median(result["times"]) * 1000
print("# Benchmark: flaky detection over a million test results\n")
print(f"Measured {datetime.date.today()} on {os.cpu_count()} cores with `bash bench/flaky.sh` (release build).\n")
print("The history: 2,000 tests over 500 default-branch runs (20 commits, 25 runs of each): 1,000,000 results.")
print("20 tests fail at random one run in five, 10 fail in 97% of runs, 3 runs fail wholesale (every test")
print("an error: an infrastructure failure), the rest pass.\n")
print(f"What `sluice tests flaky` found: {len(findings['flaky'])} flaky, {len(findings['broken'])} broken"
      f" (expected 20 and 10), {findings['lost_ms'] / 1000:.0f} s lost to the flaky ones.\n")
print("| Measure | Value |\n|---|---|")
print(f"| Wall time, median of 5 (reading the results from SQLite included) | {median:.0f} ms |")
print(f"| Wall time, mean ± σ | {result['mean']*1000:.0f} ± {result['stddev']*1000:.0f} ms |")
print(f"| Peak memory (maximum resident set size) | {int(sys.argv[2]) / 1024:.1f} MiB |")
print("\n## Commands\n")
print("```sh\nsluice tests flaky --json --days 36500 > /dev/null          # timed by hyperfine\n/usr/bin/time -f %M sluice tests flaky --json --days 36500   # peak memory\n```")
PY
cat "$here/docs/bench-flaky.md"
