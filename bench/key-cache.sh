#!/usr/bin/env bash
# Saving and restoring a 20,000-file, 200 MB tree through Sluice's key cache
# (actions/cache/save and actions/cache/restore, run natively) against what
# actions/cache does (tar with zstd -T0), on the normal disk and on tmpfs;
# a restore onto the tree when it is already in place and unchanged; and
# the disk's own limit: a plain program creating the same files.
#
#   bash bench/key-cache.sh        # needs hyperfine, zstd, python3
#
# Writes docs/bench-key-cache.md with the figures and the exact commands.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
cargo build --release -q -p sluice
sluice="$here/target/release/sluice"
for tool in hyperfine zstd python3; do
  command -v "$tool" >/dev/null || { echo "$tool is needed" >&2; exit 2; }
done
files=${FILES:-20000}
megabytes=${MEGABYTES:-200}
report="$here/docs/bench-key-cache.md"
{
  echo "# Benchmark: the key cache against tar + zstd"
  echo
  echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores with \`bash bench/key-cache.sh\` (hyperfine, all in one run)."
  echo "The tree: $files files, $megabytes MB, a third random binary and two thirds text, nested up to 5 levels"
  echo "(\`bench/gen_tree.py\`). Sluice runs \`actions/cache/save\` and \`actions/cache/restore\` natively (a whole"
  echo "\`sluice run\` each, process start included); the peer is what \`actions/cache\` does on a runner:"
  echo "\`tar -I 'zstd -T0' -cf\` and \`-xf\`."
  echo
} > "$report"

measure() { # label, base directory
  local label=$1 base=$2
  local work
  work=$(mktemp -d -p "$base")
  local repo="$work/repo"
  mkdir -p "$repo/.sluice/workflows"
  python3 "$here/bench/gen_tree.py" "$repo/tree" "$files" "$megabytes"
  cat > "$repo/.sluice/workflows/save.yml" <<'YAML'
on: push
jobs:
  save:
    runs-on: x
    steps:
      - uses: actions/cache/save@v4
        with:
          path: tree
          key: tree-${{ github.run_id }}
YAML
  cat > "$repo/.sluice/workflows/restore.yml" <<'YAML'
on: push
jobs:
  restore:
    runs-on: x
    steps:
      - uses: actions/cache/restore@v4
        with:
          path: tree
          key: tree-
          fail-on-cache-miss: true
YAML
  (cd "$repo" && git init -q -b main && printf 'tree\n' > .gitignore &&
    git -c user.name=b -c user.email=b@x add -A && git -c user.name=b -c user.email=b@x commit -q -m bench)
  cd "$repo"
  # In place: the "unchanged tree" case is about a tree already where the job runs.
  export SLUICE_STATE_DIR="$work/state" SLUICE_CACHE_DIR="$work/cache" SLUICE_IN_PLACE=1
  local archive="$work/tree.tzst"
  # Saves into an empty cache (what a first run pays) and tar create.
  hyperfine --warmup 1 --runs 5 --export-markdown "$work/save.md" --export-json "$work/save.json" \
    --prepare "rm -rf '$work/cache' '$archive'" \
    -n "sluice save" "$sluice run save" \
    -n "tar + zstd create" "tar -I 'zstd -T0' -cf '$archive' tree" > /dev/null
  "$sluice" run save > /dev/null
  tar -I 'zstd -T0' -cf "$archive" tree
  # Space taken: the cache directory (blobs, packs, manifests, entries;
  # allocated blocks, as du counts them) against the archive.
  echo "$(du -sk "$work/cache" | cut -f1) $(du -sk "$archive" | cut -f1) $(du -sk tree | cut -f1)" > "$work/sizes.txt"
  # Cold restores: the tree is gone.
  hyperfine --warmup 1 --runs 5 --export-markdown "$work/restore.md" --export-json "$work/restore.json" \
    --prepare "rm -rf '$repo/tree'" \
    -n "sluice restore" "$sluice run restore" \
    -n "tar + zstd extract" "tar -I 'zstd -T0' -xf '$archive'" > /dev/null
  # The tree is already in place and unchanged.
  "$sluice" run restore > /dev/null
  hyperfine --warmup 2 --runs 10 --export-markdown "$work/unchanged.md" --export-json "$work/unchanged.json" \
    -n "sluice restore (unchanged)" "$sluice run restore" \
    -n "tar + zstd extract (over the tree)" "tar -I 'zstd -T0' -xf '$archive'" > /dev/null
  # The disk's limit: a plain program creating the same files (bytes read
  # into memory first, not timed), at 1, 2, 4 and 8 threads, interleaved
  # round by round with Sluice's fresh restore so both meet the same disk
  # (its writeback and its neighbours drift over minutes).
  cp -a tree "$work/source"
  : > "$work/plain.txt"
  : > "$work/interleaved.txt"
  for _ in 1 2 3 4 5; do
    rm -rf "$repo/tree"; sync
    local began ended
    began=$(date +%s.%N)
    "$sluice" run restore > /dev/null
    ended=$(date +%s.%N)
    awk -v a="$began" -v b="$ended" 'BEGIN { printf "sluice %.4f\n", b - a }' >> "$work/interleaved.txt"
    for threads in 1 2 4 8; do
      rm -rf "$work/plain"; sync
      echo "$threads $(python3 "$here/bench/create_files.py" "$work/source" "$work/plain" "$threads")" >> "$work/plain.txt"
    done
  done
  rm -rf "$work/plain" "$work/source"
  python3 - "$work" "$label" >> "$report" <<'PY'
import json, statistics, sys
work, label = sys.argv[1], sys.argv[2]
plain = {}
for line in open(f"{work}/plain.txt"):
    threads, seconds = line.split()
    plain.setdefault(int(threads), []).append(float(seconds))
best_threads, best = min(((t, statistics.median(v)) for t, v in plain.items()), key=lambda tv: tv[1])
interleaved = statistics.median(float(l.split()[1]) for l in open(f"{work}/interleaved.txt"))
def means(name):
    return {r["command"]: r["mean"] for r in json.load(open(f"{work}/{name}.json"))["results"]}
s, r, u = means("save"), means("restore"), means("unchanged")
print(f"## {label}\n")
print(f"- Save: Sluice {s['sluice save']:.2f} s, tar + zstd {s['tar + zstd create']:.2f} s ({s['sluice save']/s['tar + zstd create']:.2f}x).")
print(f"- Restore: Sluice {r['sluice restore']:.2f} s, tar + zstd {r['tar + zstd extract']:.2f} s ({r['sluice restore']/r['tar + zstd extract']:.2f}x).")
print(f"- The disk's limit (a plain program creating the same files, bytes in memory, best of 1/2/4/8 threads, medians of 5 rounds interleaved with 5 Sluice restores): {best:.2f} s at {best_threads} threads; Sluice's restore in the same rounds {interleaved:.2f} s, {interleaved/best:.2f}x that (its process start, reading and verifying the blobs included).")
cache_kb, archive_kb, tree_kb = (int(v) for v in open(f"{work}/sizes.txt").read().split())
print(f"- Space on disk: the cache {cache_kb/1024:.0f} MiB, the tar.zst {archive_kb/1024:.0f} MiB ({cache_kb/archive_kb:.2f}x); the tree itself takes {tree_kb/1024:.0f} MiB (blobs are stored uncompressed, deduplicated).")
print(f"- Restore onto the unchanged tree: Sluice {1000*u['sluice restore (unchanged)']:.0f} ms, tar + zstd {1000*u['tar + zstd extract (over the tree)']:.0f} ms ({u['sluice restore (unchanged)']/u['tar + zstd extract (over the tree)']:.2f}x).\n")
for name in ("save", "restore", "unchanged"):
    print(open(f"{work}/{name}.md").read())
PY
  cd "$here"
  rm -rf "$work"
}
measure "On the normal disk ($(df -h /tmp | awk 'NR==2 {print $1}'))" /tmp
measure "On tmpfs (/dev/shm)" /dev/shm
cat "$report"
