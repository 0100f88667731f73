#!/usr/bin/env bash
# Eight jobs restoring at once (`--jobs 8`, each restoring a cached step's
# 4,000 files into its own workspace): the process's peak thread count and
# the run's wall time with the shared helper budget (the default: twice
# the cores, at least 8) against an unbounded one (SLUICE_WORKER_THREADS=100000, each
# capture, restore and sync taking the threads it asks for, as before the
# budget), interleaved in one run.
#
#   bash bench/threads.sh
#
# Writes docs/bench-threads.md.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
cargo build --release -q -p sluice
sluice="$here/target/release/sluice"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export SLUICE_CACHE_DIR="$work/cache"
mkdir -p "$work/repo/.sluice/workflows" && cd "$work/repo"
cat > .sluice/workflows/restore.yml <<'YAML'
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        copy: [1, 2, 3, 4, 5, 6, 7, 8]
    steps:
      - run: python3 -c "import os; os.makedirs('out', exist_ok=True); [open(f'out/f{i}', 'w').write(str(i) * 64) for i in range(4000)]"
        cache:
          inputs: [.sluice/workflows/restore.yml]
          outputs: [out/**]
YAML
git init -q -b main && git add -A && git -c user.name=b -c user.email=b@b commit -qm restore
"$sluice" run restore --jobs 8 > /dev/null   # fills the cache
python3 - "$sluice" "$here/docs/bench-threads.md" <<'PY'
import os, statistics, subprocess, sys, time, datetime
sluice, out = sys.argv[1], sys.argv[2]
def once(budget):
    env = dict(os.environ)
    if budget:
        env["SLUICE_WORKER_THREADS"] = budget
    else:
        env.pop("SLUICE_WORKER_THREADS", None)
    start = time.monotonic()
    proc = subprocess.Popen([sluice, "run", "restore", "--jobs", "8"], env=env, stdout=subprocess.DEVNULL)
    peak = 0
    while proc.poll() is None:
        try:
            for line in open(f"/proc/{proc.pid}/status"):
                if line.startswith("Threads:"):
                    peak = max(peak, int(line.split()[1]))
        except OSError:
            pass
        time.sleep(0.002)
    assert proc.returncode == 0, "the run failed"
    return peak, time.monotonic() - start
results = {"shared": [], "unbounded": []}
for _ in range(7):
    results["shared"].append(once(None))
    results["unbounded"].append(once("100000"))
cores = os.cpu_count()
with open(out, "w") as f:
    f.write("# Benchmark: threads with eight jobs restoring at once\n\n")
    f.write(f"Measured {datetime.date.today()} on {cores} cores with `bash bench/threads.sh` (release build), 7 runs of each,\n")
    f.write("interleaved. Each run: `sluice run restore --jobs 8`, eight matrix jobs whose cached step restores 4,000\n")
    f.write("files into its own workspace at the same time. Peak threads sampled from `/proc/PID/status` every 2 ms.\n\n")
    f.write("| Helpers | Peak threads (median, max) | Wall time (median) |\n|---|---|---|\n")
    for name, label in [("shared", f"shared budget (default: {max(2 * cores, 8)})"), ("unbounded", "unbounded (`SLUICE_WORKER_THREADS=100000`)")]:
        peaks = [p for p, _ in results[name]]
        times = [t for _, t in results[name]]
        f.write(f"| {label} | {statistics.median(peaks):.0f}, {max(peaks)} | {statistics.median(times) * 1000:.0f} ms |\n")
    ratio = statistics.median([t for _, t in results["shared"]]) / statistics.median([t for _, t in results["unbounded"]])
    f.write(f"\nWall time with the shared budget: {ratio:.2f}× the unbounded one.\n")
    f.write("\nThe other threads are the jobs' own (one per running job, and the readers of its steps' output).\n")
    f.write("\n## Command\n\n```sh\nbash bench/threads.sh\n```\n")
print(open(out).read())
PY
