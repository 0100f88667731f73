#!/usr/bin/env bash
# Reading a JUnit report of 100,000 testcases (pytest's dialect, 2% of
# them failing with a stack trace, 1% skipped): wall time with hyperfine
# and peak memory (maximum resident set size) with GNU time, through
# `sluice report junit --json`.
#
#   bash bench/junit.sh        # needs hyperfine and /usr/bin/time (apt: hyperfine time)
#
# Writes docs/bench-junit.md with the figures and the exact commands.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
cargo build --release -q -p sluice
sluice="$here/target/release/sluice"
command -v hyperfine >/dev/null || { echo "hyperfine is needed: apt-get install hyperfine" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "GNU time is needed: apt-get install time" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$work/report.xml" <<'PY'
import sys
cases = 100_000
with open(sys.argv[1], "w") as out:
    out.write('<?xml version="1.0" encoding="utf-8"?>\n<testsuites>\n')
    for suite in range(100):
        out.write(f'  <testsuite name="pytest" tests="1000" time="12.5" timestamp="2026-12-03T10:00:00">\n')
        for i in range(1000):
            n = suite * 1000 + i
            head = f'    <testcase classname="tests.test_module_{suite}.TestThing" name="test_case_{n}" file="tests/test_module_{suite}.py" line="{i + 10}" time="0.{n % 1000:03d}"'
            if n % 50 == 0:
                out.write(head + '>\n      <failure message="assert 1 == 2">def test():\n&gt;       assert 1 == 2\nE       assert 1 == 2\n\ntests/test_x.py:12: AssertionError</failure>\n    </testcase>\n')
            elif n % 100 == 1:
                out.write(head + '>\n      <skipped message="not on this platform" type="pytest.skip"/>\n    </testcase>\n')
            else:
                out.write(head + '/>\n')
        out.write('  </testsuite>\n')
    out.write('</testsuites>\n')
PY
size=$(du -h "$work/report.xml" | cut -f1)
hyperfine --warmup 2 --runs 15 --export-json "$work/time.json" \
  -n "sluice report junit (100,000 testcases)" "$sluice report junit --json $work/report.xml > /dev/null" > "$work/hyperfine.txt"
/usr/bin/time -f "%M" -o "$work/rss" "$sluice" report junit --json "$work/report.xml" > /dev/null
"$sluice" report junit "$work/report.xml" | head -1 > "$work/summary"
python3 - "$work/time.json" "$(cat "$work/rss")" "$size" "$(cat "$work/summary")" > "$here/docs/bench-junit.md" <<'PY'
import json, statistics, sys, datetime, os
result = json.load(open(sys.argv[1]))["results"][0]
median = statistics.median(result["times"]) * 1000
print("# Benchmark: reading a 100,000-testcase JUnit report\n")
print(f"Measured {datetime.date.today()} on {os.cpu_count()} cores with `bash bench/junit.sh` (release build).\n")
print(f"The report: 100 suites of 1,000 pytest testcases ({sys.argv[3]}), 2% failing with a stack trace, 1% skipped.")
print(f"What Sluice read: `{sys.argv[4]}`\n")
print("| Measure | Value |\n|---|---|")
print(f"| Wall time, median of 15 (`--json` to /dev/null) | {median:.0f} ms |")
print(f"| Wall time, mean ± σ | {result['mean']*1000:.0f} ± {result['stddev']*1000:.0f} ms |")
print(f"| Peak memory (maximum resident set size) | {int(sys.argv[2]) / 1024:.1f} MiB |")
print("\n## Commands\n")
print("```sh\nsluice report junit --json report.xml > /dev/null        # timed by hyperfine\n/usr/bin/time -f %M sluice report junit --json report.xml  # peak memory\n```")
PY
cat "$here/docs/bench-junit.md"
