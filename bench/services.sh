#!/usr/bin/env bash
# Job workspaces and services, measured:
#  (a) creating a job's workspace for a repository of 10,000 files, side
#      by side with the usual ways to get a second copy of a repository
#      (git worktree, git clone --shared, cp -a);
#  (b) start-to-healthy time of the PostgreSQL and Redis services.
#
#   bash bench/services.sh      # needs hyperfine, PostgreSQL and Redis (apt)
#
# Writes docs/bench-services.md with the figures and the exact commands.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
cargo build --release -q -p sluice
sluice="$here/target/release/sluice"
command -v hyperfine >/dev/null || { echo "hyperfine is needed: apt-get install hyperfine" >&2; exit 2; }
command -v redis-server >/dev/null || { echo "redis-server is needed: apt-get install redis-server" >&2; exit 2; }
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || { echo "PostgreSQL is needed: apt-get install postgresql" >&2; exit 2; }
work=$(mktemp -d)
# Job workspaces live under TMPDIR; a tmpfs shows what the copy costs
# without the disk.
shm=$(mktemp -d -p /dev/shm)
trap 'rm -rf "$work" "$shm"' EXIT
export SLUICE_STATE_DIR="$work/state" SLUICE_CACHE_DIR="$work/cache" NO_COLOR=1
runs=${RUNS:-15}

# (a) A repository of 10,000 files (40 MB, text and binary, nested).
repo="$work/repo"
mkdir -p "$repo/.github/workflows"
python3 bench/gen_tree.py "$repo/src" 10000 40
cat > "$repo/.github/workflows/noop.yml" <<'YAML'
name: noop
on: push
jobs:
  noop:
    runs-on: ubuntu-latest
    steps: [{run: 'true'}]
YAML
git -C "$repo" init -q -b main
git -C "$repo" add -A
git -C "$repo" -c user.name=b -c user.email=b@b commit -qm tree
files=$(git -C "$repo" ls-files | wc -l)
cd "$repo"
"$sluice" run noop > /dev/null
fresh="rm -rf $SLUICE_CACHE_DIR/workspaces $shm/cache/workspaces"
hyperfine --warmup 2 --runs "$runs" --export-json "$work/workspace.json" \
  -n "sluice run --in-place" "$sluice run noop --in-place" \
  -n "sluice run (kept workspace, repository unchanged)" "$sluice run noop" \
  -n "sluice run (kept workspace, one file changed)" "date > src/changing.txt && $sluice run noop" \
  -n "git worktree add + remove" "git worktree add -q --detach $work/wt && git worktree remove --force $work/wt" \
  -n "git clone --shared + rm" "git clone -q --shared $repo $work/clone && rm -rf $work/clone" \
  -n "cp -a + rm" "cp -a $repo $work/copy && rm -rf $work/copy" \
  -n "cp -a to tmpfs + rm" "cp -a $repo $shm/copy && rm -rf $shm/copy" > /dev/null
# A fresh workspace every time (its slot removed before each run), on
# the disk and with the cache directory on a tmpfs.
hyperfine --warmup 1 --runs "$runs" --export-json "$work/fresh.json" --prepare "$fresh" \
  -n "sluice run (fresh workspace)" "$sluice run noop" \
  -n "sluice run (fresh workspace, cache dir on tmpfs)" "SLUICE_CACHE_DIR=$shm/cache $sluice run noop" > /dev/null
rm -f src/changing.txt
# The sync alone, as the job's log reports it.
kept_ms=()
fresh_ms=()
for _ in $(seq 1 "$runs"); do
  kept_ms+=("$("$sluice" run noop | sed -n 's/.*workspace: .* in \([0-9]*\) ms/\1/p')")
  $fresh
  fresh_ms+=("$("$sluice" run noop | sed -n 's/.*workspace: .* in \([0-9]*\) ms/\1/p')")
done
cd "$here"

# (b) Services: a GitHub-style job with postgres and redis service
# containers (run with the host's binaries), and a native Redis service.
svc="$work/svc"
mkdir -p "$svc/.github/workflows"
cat > "$svc/.github/workflows/services.yml" <<'YAML'
name: services
on: push
jobs:
  integration:
    runs-on: ubuntu-latest
    services:
      postgres:
        image: postgres:16
        env: {POSTGRES_USER: app, POSTGRES_PASSWORD: pw, POSTGRES_DB: app_test}
        ports: ['5432:5432']
        options: --health-cmd pg_isready --health-interval 10s --health-timeout 5s --health-retries 5
      redis:
        image: redis:7
        ports: ['6379:6379']
        options: --health-cmd "redis-cli ping" --health-interval 10s --health-timeout 5s --health-retries 5
      native-redis:
        run: redis-server --port $PORT --save ''
        ports: [6379]
        healthcheck: {cmd: 'redis-cli -p $PORT ping', interval: 1s, timeout: 2s, retries: 30}
    steps: [{run: 'true'}]
YAML
git -C "$svc" init -q -b main
git -C "$svc" add -A
git -C "$svc" -c user.name=b -c user.email=b@b commit -qm services
cd "$svc"
: > "$work/ready.txt"
for _ in $(seq 1 "$runs"); do
  "$sluice" run services | sed -n 's/.*service \([a-z-]*\): .*ready after \([0-9.]*\) s.*/\1 \2/p' >> "$work/ready.txt"
done
hyperfine --warmup 1 --runs "$runs" --export-json "$work/job.json" \
  -n "job with the three services" "$sluice run services" > /dev/null
cd "$here"

python3 - "$work" "$files" "$runs" "${kept_ms[*]}" "${fresh_ms[*]}" <<'PY'
import json, statistics, sys
work, files, runs = sys.argv[1], int(sys.argv[2]), sys.argv[3]
kept = [int(x) for x in sys.argv[4].split()]
fresh = [int(x) for x in sys.argv[5].split()]
ws = {r["command"]: r for r in json.load(open(f"{work}/workspace.json"))["results"]}
ws.update({r["command"]: r for r in json.load(open(f"{work}/fresh.json"))["results"]})
job = json.load(open(f"{work}/job.json"))["results"][0]
ready = {}
for line in open(f"{work}/ready.txt"):
    name, seconds = line.split()
    ready.setdefault(name, []).append(float(seconds) * 1000)
ms = lambda r: f"{r['mean'] * 1000:.0f} ± {r['stddev'] * 1000:.0f} ms"
base = ws["sluice run --in-place"]["mean"]
cost = lambda name: ws[name]["mean"] - base
out = []
out.append("# Job workspaces and services\n")
out.append("Measured by `bash bench/services.sh` on the project's 2-core build machine, all in one run;")
out.append(f"hyperfine, {runs} runs each after warm-up. Absolute times drift on shared machines; the ratios are the figures.\n")
out.append(f"## A job's workspace for a repository of {files:,} files (40 MB)\n")
out.append("Each job runs in its own copy of the repository. Copies are kept in slots and synced: a fresh slot copies")
out.append("everything; a kept one removes what the last job left and copies only what changed or was touched.\n")
out.append("| Command | Time | Cost over `--in-place` |")
out.append("|---|---|---|")
for name in ["sluice run --in-place", "sluice run (kept workspace, repository unchanged)", "sluice run (kept workspace, one file changed)",
             "sluice run (fresh workspace)", "sluice run (fresh workspace, cache dir on tmpfs)",
             "git worktree add + remove", "git clone --shared + rm", "cp -a + rm", "cp -a to tmpfs + rm"]:
    r = ws[name]
    extra = f"{cost(name) * 1000:.0f} ms" if name.startswith("sluice run (") else ""
    out.append(f"| `{name}` | {ms(r)} | {extra} |")
out.append("")
kept_cost = cost("sluice run (kept workspace, repository unchanged)")
fresh_cost = cost("sluice run (fresh workspace)")
peer = ws["git clone --shared + rm"]["mean"]
out.append(f"- A job's workspace costs **{kept_cost * 1000:.0f} ms** when its slot is kept and the repository did not change;")
out.append(f"  that is {peer / kept_cost:.0f}× less than `git clone --shared` and {ws['git worktree add + remove']['mean'] / kept_cost:.0f}× less than `git worktree add` (each with its removal).")
out.append(f"- A fresh workspace costs {fresh_cost * 1000:.0f} ms on this machine's disk ({peer / fresh_cost:.1f}× less than `git clone --shared`, {ws['cp -a + rm']['mean'] / fresh_cost:.1f}× less than `cp -a`), and")
out.append(f"  {cost('sluice run (fresh workspace, cache dir on tmpfs)') * 1000:.0f} ms with the cache directory on a tmpfs: creating 10,000 files here is bound by the disk's journal.")
out.append(f"- The sync alone, as the job's log reports it: kept slot median {statistics.median(kept)} ms, fresh slot median {statistics.median(fresh)} ms.\n")
out.append("## Services: start to healthy\n")
out.append("One job with GitHub's `postgres:16` and `redis:7` service containers (run with the host's PostgreSQL and Redis,")
out.append("health options as GitHub's documentation writes them: `--health-interval 10s`) and a native Redis service, started in parallel.\n")
out.append("| Service | Median | Min | Max |")
out.append("|---|---|---|---|")
for name in ["postgres", "redis", "native-redis"]:
    v = ready.get(name, [])
    if v:
        out.append(f"| {name} | {statistics.median(v):.0f} ms | {min(v):.0f} ms | {max(v):.0f} ms |")
out.append("")
out.append(f"The whole job (`sluice run` with the three services, one `true` step, teardown included): {ms(job)}.")
out.append("PostgreSQL's time includes `initdb` of a fresh cluster and creating `POSTGRES_DB`. With a 10 s health")
out.append("interval a runner that probes only on the interval would first see the service healthy after 10 s;")
out.append("Sluice probes every 100 ms until the first success and keeps Docker's failure budget (retries × (interval + timeout)).\n")
out.append("## Commands\n")
out.append("```")
out.append("bash bench/services.sh   # RUNS=15 by default")
out.append("```")
open("docs/bench-services.md", "w").write("\n".join(out) + "\n")
print("\n".join(out))
PY
