#!/usr/bin/env bash
# A real series: how long Sluice's own JUnit reader takes on a
# 20,000-testcase report, measured at each of its commits since the
# reader was written (built from each commit in turn, 7 repetitions a
# run, two runs a commit), recorded with `sluice perf record` and judged
# with `sluice perf check` before each is recorded — what Sluice would
# have said at each commit — then `sluice perf history` for the change
# points. One of these commits made the reader three times faster.
#
#   bash bench/perf-real.sh
#
# Writes docs/bench-perf-real.md.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
cargo build --release -q -p sluice
sluice="$here/target/release/sluice"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$work/report.xml" <<'PY'
import sys
with open(sys.argv[1], "w") as out:
    out.write('<?xml version="1.0" encoding="utf-8"?>\n<testsuites>\n')
    for suite in range(200):
        out.write(f'  <testsuite name="pytest" tests="100">\n')
        for i in range(100):
            n = suite * 100 + i
            head = f'    <testcase classname="tests.test_module_{suite}.TestThing" name="test_case_{n}" file="tests/test_module_{suite}.py" line="{i + 10}" time="0.{n % 1000:03d}"'
            if n % 50 == 0:
                out.write(head + '>\n      <failure message="assert 1 == 2">assert 1 == 2</failure>\n    </testcase>\n')
            else:
                out.write(head + '/>\n')
        out.write('  </testsuite>\n')
    out.write('</testsuites>\n')
PY
mkdir -p "$work/harness/src" "$work/history"
cat > "$work/harness/Cargo.toml" <<TOML
[package]
name = "junit-timing"
version = "0.0.0"
edition = "2024"
[workspace]
[dependencies]
sluice-reports = { path = "$work/src/crates/sluice-reports" }
[profile.release]
debug = false
TOML
cat > "$work/harness/src/main.rs" <<'RS'
// Times `parse_junit` on one report, seven times, and prints the times
// as hyperfine's JSON (what `sluice perf` reads).
fn main() {
    let path = std::env::args().nth(1).expect("a report");
    let bytes = std::fs::read(path).expect("readable");
    let mut times = Vec::new();
    for _ in 0..7 {
        let start = std::time::Instant::now();
        let report = sluice_reports::parse_junit(&bytes).expect("a report");
        std::hint::black_box(report);
        times.push(start.elapsed().as_secs_f64());
    }
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    let list: Vec<String> = times.iter().map(|t| format!("{t}")).collect();
    println!("{{\"results\": [{{\"command\": \"parse_junit 20k\", \"mean\": {mean}, \"times\": [{}]}}]}}", list.join(", "));
}
RS
cd "$work/history"
git init -q -b main && git -c user.name=bench -c user.email=bench@example.invalid commit -q --allow-empty -m history
rows="$work/rows.txt"
: > "$rows"
for sha in $(git -C "$here" rev-list --reverse c67a72f^..HEAD); do
  rm -rf "$work/src" && mkdir -p "$work/src"
  git -C "$here" archive "$sha" | tar -x -C "$work/src"
  # Extracted files carry their commit's time; cargo would take an older
  # commit's sources for already built. Fresh times make it rebuild them.
  find "$work/src" -type f -exec touch {} +
  CARGO_TARGET_DIR="$work/target" cargo build -q --release --manifest-path "$work/harness/Cargo.toml"
  at=$(git -C "$here" show -s --format=%ct "$sha")
  for pass in 1 2; do
    "$work/target/release/junit-timing" "$work/report.xml" > "$work/result.json"
    verdict=$("$sluice" perf check "$work/result.json" --json | python3 -c 'import json,sys; r=json.load(sys.stdin)[0]; print(r["verdict"], r["value"], r.get("change"))') || true
    "$sluice" perf record "$work/result.json" --commit "$sha" --at $((at + pass)) > /dev/null
    echo "$(git -C "$here" log -1 --format=%h "$sha") $pass $verdict" >> "$rows"
  done
done
"$sluice" perf history "parse_junit 20k" --json > "$work/history.json"
python3 - "$rows" "$work/history.json" > "$here/docs/bench-perf-real.md" <<'PY'
import datetime, json, os, sys
rows = [line.split() for line in open(sys.argv[1])]
history = json.load(open(sys.argv[2]))[0]
print("# A real series: Sluice's JUnit reader across its own commits\n")
print(f"Measured {datetime.date.today()} on {os.cpu_count()} cores with `bash bench/perf-real.sh`.\n")
print("Each commit since the reader was written is built, then `parse_junit` reads a 20,000-testcase report")
print("7 times (one run), twice per commit. Before a run is recorded (`sluice perf record`), `sluice perf")
print("check` judges it against the runs recorded so far: what Sluice would have said at that commit.\n")
print("The last column is the seed's fixed rule on the same numbers: this run against the previous one,")
print("+10% warns.\n")
print("| Commit | Run | Median | Change against the baseline | Sluice's verdict | Fixed 10% rule |\n|---|---|---|---|---|---|")
previous = None
fixed_alarms = 0
for commit, run, verdict, value, change in rows:
    change = "–" if change == "None" else f"{float(change) * 100:+.1f}%"
    fixed = "–"
    if previous is not None:
        ratio = float(value) / previous
        fixed = f"alarm ({(ratio - 1) * 100:+.0f}%)" if ratio >= 1.10 else "ok"
        fixed_alarms += ratio >= 1.10
    previous = float(value)
    print(f"| {commit} | {run} | {float(value) * 1000:.1f} ms | {change} | {verdict} | {fixed} |")
sluice_alarms = sum(1 for r in rows if r[2] in ("warning", "critical"))
print(f"\nAlarms: Sluice {sluice_alarms}, the fixed rule {fixed_alarms}. Only commits that changed `sluice-reports`")
print("(c67a72f, ea18f02, 8b08755, 534dc0f, 0af522a, 8ad5262) can have changed the reader's speed; the others")
print("show how far this shared machine drifts from run to run with the code unchanged.")
points = history["points"]
print("\nChange points `sluice perf history \"parse_junit 20k\"` finds on the series:\n")
if not history["change_points"]:
    print("- none")
for cp in history["change_points"]:
    print(f"- at commit {cp['sha'][:7]} (run {cp['index'] + 1} of {len(points)}): moved {cp['change'] * 100:+.1f}%")
print("\n## Commands\n\n```sh\nbash bench/perf-real.sh\nsluice perf check result.json --json\nsluice perf record result.json --commit SHA --at TIME\nsluice perf history \"parse_junit 20k\" --json\n```")
PY
cat "$here/docs/bench-perf-real.md"
