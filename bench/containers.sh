#!/usr/bin/env bash
# A container job's overhead against the same job on the host, and a
# second docker/build-push-action build of an unchanged context against
# a first one, side by side in one run, through podman serving the
# Docker API (started here when DOCKER_HOST is not set).
#
#   bash bench/containers.sh      # needs hyperfine, podman, busybox-static
#
# Writes docs/bench-containers.md with the figures and the exact commands.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
cargo build --release -q -p sluice
sluice="$here/target/release/sluice"
command -v hyperfine >/dev/null || { echo "hyperfine is needed: apt-get install hyperfine" >&2; exit 2; }
work=$(mktemp -d)
cleanup() {
  [ -n "${podman_pid:-}" ] && kill "$podman_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
if [ -z "${DOCKER_HOST:-}" ]; then
  cat > "$work/containers.conf" <<'CONF'
[containers]
default_ulimits = []
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "runc"
CONF
  export CONTAINERS_CONF="$work/containers.conf"
  podman system service --time=0 "unix://$work/podman.sock" >"$work/podman.log" 2>&1 &
  podman_pid=$!
  export DOCKER_HOST="unix://$work/podman.sock"
  for _ in $(seq 50); do docker info >/dev/null 2>&1 && break; sleep 0.2; done
fi
image=localhost/sluice-bench-busybox:1
mkdir -p "$work/ctx"
cp "$(command -v busybox)" "$work/ctx/busybox"
printf 'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "--install", "-s", "/bin"]\nENV PATH=/bin\n' > "$work/ctx/Containerfile"
docker build -q -t "$image" -f "$work/ctx/Containerfile" "$work/ctx" >/dev/null

repo="$work/repo"
mkdir -p "$repo/.github/workflows" "$repo/app"
steps=""
for n in 1 2 3 4 5; do steps="$steps      - run: echo step $n && test -f README\n"; done
printf "on: push\njobs:\n  job:\n    runs-on: x\n    steps:\n$steps" > "$repo/.github/workflows/host.yml"
printf "on: push\njobs:\n  job:\n    runs-on: x\n    container: $image\n    steps:\n$steps" > "$repo/.github/workflows/container.yml"
# An image whose layers do seconds of real work (hashing generated text),
# as compiling a project's dependencies would.
cat > "$repo/app/Dockerfile" <<DOCKERFILE
FROM $image
ARG BUST=none
RUN echo "\$BUST" > /bust && mkdir /data && for i in \$(seq 2); do seq 10000000 | sha256sum > /data/f\$i; done
RUN cat /data/* | sha256sum > /sum
COPY . /src
DOCKERFILE
cat > "$repo/.github/workflows/image.yml" <<'YAML'
on: push
jobs:
  image:
    runs-on: x
    steps:
      - uses: docker/build-push-action@v6
        with:
          context: app
          tags: localhost/sluice-bench-app:latest
          build-args: BUST=${{ vars.BUST }}
YAML
echo README > "$repo/README"
cd "$repo"
git init -q -b main && git add -A && git -c user.name=bench -c user.email=bench@example.invalid commit -qm bench
export SLUICE_CACHE_DIR="$work/cache"
"$sluice" run host >/dev/null && "$sluice" run container >/dev/null
"$sluice" run image --var BUST=warm >/dev/null
hyperfine --warmup 2 --runs 15 --export-json "$work/jobs.json" \
  -n "job on the host" "$sluice run host" \
  -n "job in a container" "$sluice run container" > "$work/jobs.txt"
hyperfine --runs 10 --export-json "$work/builds.json" \
  -n "first build (context changed)" "$sluice run image --var BUST=\$(date +%s%N)" \
  -n "second build (unchanged context)" "$sluice run image --var BUST=warm" > "$work/builds.txt"
engine=$(docker info --format '{{.ServerVersion}}')
python3 - "$work/jobs.json" "$work/builds.json" "$engine" > "$here/docs/bench-containers.md" <<'PY'
import json, statistics, sys, datetime, os
jobs = json.load(open(sys.argv[1]))["results"]
builds = json.load(open(sys.argv[2]))["results"]
def ms(r): return statistics.median(r["times"]) * 1000
print("# Benchmark: container jobs and image builds\n")
print(f"Measured {datetime.date.today()} on {os.cpu_count()} cores with `bash bench/containers.sh`,")
print(f"through podman {sys.argv[3]} serving the Docker API (runc, cgroupfs), images built locally.\n")
print("## A container job against the same job on the host\n")
print("One job of five `run:` steps; in the container (busybox from scratch) each step is a `docker exec`.")
print("hyperfine, 2 warm-up runs, 15 runs each.\n")
print("| Job | Median | Mean ± σ |\n|---|---|---|")
for r in jobs:
    print(f"| {r['command']} | {ms(r):.0f} ms | {r['mean']*1000:.0f} ± {r['stddev']*1000:.0f} ms |")
host, container = jobs
print(f"\nThe container costs **{ms(container)-ms(host):.0f} ms** more per job (x{ms(container)/ms(host):.2f}): network,")
print("container start, five `exec`s, removal.\n")
print("## docker/build-push-action: a second build of an unchanged context\n")
print("A Dockerfile whose layers hash 20 million generated lines (seconds of work); the first build changes a build argument")
print("(`--var BUST=$(date +%s%N)`) so every layer after it is built, the second passes the same one.")
print("hyperfine, 10 runs each.\n")
print("| Build | Median | Mean ± σ |\n|---|---|---|")
for r in builds:
    print(f"| {r['command']} | {ms(r):.0f} ms | {r['mean']*1000:.0f} ± {r['stddev']*1000:.0f} ms |")
first, second = builds
ratio = ms(second) / ms(first)
verdict = "the engine's layer cache serves it" if ratio < 0.5 else "the layer cache did not spare the work"
print(f"\nThe second build takes **{ratio:.2f}x** the first's time: {verdict}.")
print("\n## Commands\n")
print("```sh")
exact = {
    "job on the host": "sluice run host",
    "job in a container": "sluice run container",
    "first build (context changed)": "sluice run image --var BUST=$(date +%s%N)",
    "second build (unchanged context)": "sluice run image --var BUST=warm",
}
for r in jobs + builds:
    print(f"{exact[r['command']]:48} # {r['command']}")
print("```")
PY
cat "$here/docs/bench-containers.md"
