#!/usr/bin/env python3
"""Writes a 200-job workflow (each job with a 3x3x3 matrix) into a fresh git
repository at the given path, for bench/plan.sh."""
import os
import subprocess
import sys

root = sys.argv[1]
os.makedirs(os.path.join(root, ".github", "workflows"), exist_ok=True)
lines = [
    "name: Big",
    "on:",
    "  push:",
    "    branches: [main, 'release/**']",
    "    paths-ignore: ['docs/**']",
    "  pull_request:",
    "env:",
    "  GLOBAL: value",
    "jobs:",
]
for i in range(200):
    lines += [
        f"  job-{i:03}:",
        f"    name: Job {i} ${{{{ matrix.os }}}} ${{{{ matrix.version }}}}",
        "    runs-on: ${{ matrix.os }}",
    ]
    if i > 0:
        needs = sorted({(i - 1) // 2, (i - 1) // 3})
        lines.append(f"    needs: [{', '.join(f'job-{n:03}' for n in needs)}]")
    lines += [
        "    if: github.event_name == 'push' || contains(github.ref, 'main')",
        "    strategy:",
        "      fail-fast: false",
        "      matrix:",
        "        os: [ubuntu-latest, debian, alpine]",
        "        version: [1, 2, 3]",
        "        flavour: [small, medium, large]",
        "    env:",
        "      JOB_INDEX: '" + str(i) + "'",
        "    steps:",
        "      - uses: actions/checkout@v4",
        "      - name: Build",
        "        run: |",
        "          echo building ${{ matrix.os }} ${{ matrix.version }} ${{ matrix.flavour }}",
        "          test -n \"$JOB_INDEX\"",
        "        env:",
        "          TOKEN: ${{ secrets.TOKEN }}",
        "      - name: Test",
        "        if: success() && hashFiles('**/*.lock') != ''",
        "        run: echo test",
    ]
with open(os.path.join(root, ".github", "workflows", "big.yml"), "w") as f:
    f.write("\n".join(lines) + "\n")

def git(*args):
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)

git("init", "-q", "-b", "main")
git("-c", "user.name=bench", "-c", "user.email=bench@example.invalid", "add", "-A")
git("-c", "user.name=bench", "-c", "user.email=bench@example.invalid", "commit", "-q", "-m", "bench")
