#!/usr/bin/env bash
# The step cache against Turborepo on the same 20-package workload, side by
# side in one run: fully cached, outputs deleted, one leaf input changed.
#
#   bash bench/turbo.sh           # needs node/npm (turbo comes from `npm install turbo`) and hyperfine
#
# Writes docs/bench-turbo.md with the figures and the exact commands.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
cargo build --release -q -p sluice
sluice="$here/target/release/sluice"
command -v hyperfine >/dev/null || { echo "hyperfine is needed: apt-get install hyperfine" >&2; exit 2; }
command -v npm >/dev/null || { echo "npm is needed" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
repo="$work/repo"
mkdir -p "$repo/.sluice/workflows"
cd "$repo"

# 20 npm-workspace packages; pkg-i depends on pkg-(i/2).
cat > package.json <<JSON
{"name": "turbo-bench", "private": true, "workspaces": ["packages/*"], "packageManager": "npm@$(npm --version)"}
JSON
{
  echo "name: build"
  echo "on: push"
  echo "jobs:"
} > .sluice/workflows/build.yml
for i in $(seq 0 19); do
  name=$(printf "pkg-%02d" "$i")
  parent=$(printf "pkg-%02d" $((i / 2)))
  mkdir -p "packages/$name/src"
  echo "export const name = '$name';" > "packages/$name/src/index.js"
  build="mkdir -p dist && cp src/index.js dist/index.js && echo $name > dist/out.txt"
  if [ "$i" -gt 0 ]; then deps="\"dependencies\": {\"$parent\": \"*\"},"; else deps=""; fi
  cat > "packages/$name/package.json" <<JSON
{"name": "$name", "version": "1.0.0", $deps "scripts": {"build": "$build"}}
JSON
  {
    echo "  $name:"
    if [ "$i" -gt 0 ]; then echo "    needs: $parent"; fi
    echo "    runs-on: ubuntu-latest"
    echo "    steps:"
    echo "      - working-directory: packages/$name"
    echo "        run: $build"
    echo "        cache:"
    echo "          inputs: [src/**, package.json]"
    echo "          outputs: [dist/**]"
  } >> .sluice/workflows/build.yml
done
cat > turbo.json <<'JSON'
{"$schema": "https://turbo.build/schema.json", "tasks": {"build": {"dependsOn": ["^build"], "inputs": ["src/**", "package.json"], "outputs": ["dist/**"]}}}
JSON
printf 'node_modules\n.turbo\ndist\n.sluice/state\n' > .gitignore
npm install --no-audit --no-fund --silent turbo@2 >/dev/null 2>&1
turbo="$repo/node_modules/@turbo/linux-64/bin/turbo"
git init -q -b main
git -c user.name=bench -c user.email=bench@example.invalid add -A
git -c user.name=bench -c user.email=bench@example.invalid commit -q -m bench
# turbo builds in the working tree; so does Sluice here (not in per-job snapshots).
export TURBO_TELEMETRY_DISABLED=1 SLUICE_CACHE_DIR="$work/sluice-cache" SLUICE_STATE_DIR="$work/sluice-state" SLUICE_IN_PLACE=1

# Fill both caches.
"$turbo" run build >/dev/null
"$sluice" run build >/dev/null

run() { # name, prepare, turbo-args
  hyperfine --warmup 3 --runs 30 --export-json "$work/$1.json" --export-markdown "$work/$1.md" \
    ${2:+--prepare "$2"} \
    -n "turbo" "$turbo run build" \
    -n "sluice" "$sluice run build" > /dev/null
}
run cached ""
run deleted "rm -rf packages/*/dist"
run leaf "echo \"// \$(date +%s%N)\" >> packages/pkg-19/src/index.js"
version=$("$turbo" --version)

figures=$(python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
def stats(name):
    return {r["command"]: (r["mean"], r["median"]) for r in json.load(open(f"{work}/{name}.json"))["results"]}
for name, label, target in [("cached", "Fully cached re-run", "at most 0.5x turbo"), ("deleted", "Outputs deleted, then re-run", "no slower than turbo"), ("leaf", "One leaf input changed", "reported")]:
    m = stats(name)
    (t, tm), (s, sm) = m["turbo"], m["sluice"]
    print(f"- {label}: turbo {1000*t:.1f} ms, Sluice {1000*s:.1f} ms (means): Sluice takes {s/t:.2f}x turbo's time; "
          f"by medians ({1000*tm:.1f} ms, {1000*sm:.1f} ms) {sm/tm:.2f}x (target: {target}).")
PY
)
{
  echo "# Benchmark: the step cache against Turborepo"
  echo
  echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores with \`bash bench/turbo.sh\` (turbo $version, native binary"
  echo "from \`npm install turbo\`, \`TURBO_TELEMETRY_DISABLED=1\`; hyperfine, 3 warm-up and 30 runs each, in one run)."
  echo
  echo "Workload: 20 npm-workspace packages \`pkg-00\` … \`pkg-19\`, \`pkg-i\` depends on \`pkg-(i/2)\`; each build runs"
  echo "\`mkdir -p dist && cp src/index.js dist/index.js && echo pkg-i > dist/out.txt\`. turbo: \`dependsOn: [\"^build\"]\`,"
  echo "inputs \`src/**\` and \`package.json\`, outputs \`dist/**\`. Sluice: one job per package, \`needs:\` along the same"
  echo "edges, the same command with \`cache: {inputs: [src/**, package.json], outputs: [dist/**]}\`."
  echo
  echo "Commands timed (in the workload's repository, both caches filled by one run first): \`node_modules/@turbo/linux-64/bin/turbo run build\`"
  echo "and \`target/release/sluice run build\` (with \`SLUICE_CACHE_DIR\` and \`SLUICE_STATE_DIR\` in the scratch directory, and \`SLUICE_IN_PLACE=1\`: jobs build in the working tree, as turbo does)."
  echo
  echo "$figures"
  echo
  for name in cached deleted leaf; do
    case $name in
      cached) echo "## Fully cached re-run";;
      deleted) echo "## Outputs deleted (\`rm -rf packages/*/dist\` before each run), then re-run";;
      leaf) echo "## One leaf input changed (\`packages/pkg-19/src/index.js\` before each run)";;
    esac
    echo
    cat "$work/$name.md"
    echo
  done
} > "$here/docs/bench-turbo.md"
cat "$here/docs/bench-turbo.md"
