#!/usr/bin/env bash
# PostgreSQL service start-to-healthy with the data template (a cluster
# made by initdb once, copied for each job) against without it
# (SLUICE_SERVICE_TEMPLATES=0: initdb every time), in one run.
#
#   bash bench/pg-template.sh      # needs PostgreSQL (apt-get install postgresql)
#
# Writes docs/bench-pg-template.md.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
cargo build --release -q -p sluice
sluice="$here/target/release/sluice"
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || { echo "PostgreSQL is needed: apt-get install postgresql" >&2; exit 2; }
runs=${RUNS:-10}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export SLUICE_CACHE_DIR="$work/cache"
mkdir -p "$work/repo/.github/workflows" && cd "$work/repo"
cat > .github/workflows/db.yml <<'YAML'
on: push
jobs:
  db:
    runs-on: ubuntu-latest
    services:
      postgres:
        image: postgres:16
        env: {POSTGRES_USER: app, POSTGRES_PASSWORD: pw, POSTGRES_DB: app_test}
        ports: ['5432:5432']
        options: --health-cmd pg_isready --health-interval 10s --health-timeout 5s --health-retries 5
    steps:
      - run: PGPASSWORD=pw psql -h localhost -p ${{ job.services.postgres.ports['5432'] }} -U app -d app_test -tAc 'select 1'
YAML
git init -q -b main && git add -A && git -c user.name=b -c user.email=b@b commit -qm db
ready() {  # $1: label; the rest: environment
  local label=$1; shift
  for _ in $(seq 1 "$runs"); do
    env "$@" "$sluice" run db | sed -n "s/.*service postgres: .*ready after \([0-9.]*\) s.*/$label \1/p" >> "$work/ready.txt"
  done
}
: > "$work/ready.txt"
env SLUICE_SERVICE_TEMPLATES=1 "$sluice" run db > /dev/null   # makes the template
for _ in 1 2; do   # interleaved, so that drift hits both alike
  ready without SLUICE_SERVICE_TEMPLATES=0
  ready with SLUICE_SERVICE_TEMPLATES=1
done
python3 - "$work/ready.txt" "$runs" > "$here/docs/bench-pg-template.md" <<'PY'
import datetime, os, statistics, sys
times = {}
for line in open(sys.argv[1]):
    label, seconds = line.split()
    times.setdefault(label, []).append(float(seconds) * 1000)
without, with_ = statistics.median(times["without"]), statistics.median(times["with"])
print("# Benchmark: a PostgreSQL service from its data template\n")
print(f"Measured {datetime.date.today()} on {os.cpu_count()} cores with `bash bench/pg-template.sh` (release build),")
print(f"{len(times['with'])} jobs each way, interleaved. Start to healthy as the job's log reports it (`ready after`), for")
print("GitHub's `postgres:16` service with a user, password and database, run on the host's PostgreSQL.\n")
print("| | Median | Min | Max |\n|---|---|---|---|")
for label, name in [("without", "initdb every time (`SLUICE_SERVICE_TEMPLATES=0`)"), ("with", "copied from the template")]:
    v = times[label]
    print(f"| {name} | {statistics.median(v):.0f} ms | {min(v):.0f} ms | {max(v):.0f} ms |")
print(f"\nWith the template a job's database is ready in **{with_ / without:.2f}×** the time (the figure in")
print("docs/bench-services.md before the template, measured in another run: 1.12 s median).")
print("The template is made by the first job that needs it (initdb without the password, then copied into the")
print("cache directory); each job copies it (`cp -a`, reflinks where the file system has them), then sets the")
print("password and creates the database in one single-user session.")
print("\n## Command\n\n```sh\nbash bench/pg-template.sh\n```")
PY
cat "$here/docs/bench-pg-template.md"
