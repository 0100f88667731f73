#!/usr/bin/env python3
"""Writes a nested tree of text and binary files: `gen_tree.py DIR FILES MEGABYTES`.
Deterministic (seeded), so every run measures the same tree."""
import os
import random
import sys

root, files, megabytes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(20261122)
total = megabytes * 1024 * 1024
average = total // files
words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9))) for _ in range(2000)]
for i in range(files):
    depth = i % 4
    parts = [f"d{(i // 400) % 50:02}"] + [f"s{(i // (37 * (k + 1))) % 7}" for k in range(depth)]
    directory = os.path.join(root, *parts)
    os.makedirs(directory, exist_ok=True)
    size = max(1, int(average * rng.uniform(0.2, 1.8)))
    if i % 3 == 0:
        data = rng.randbytes(size)
        name = f"f{i:05}.bin"
    else:
        text = []
        length = 0
        while length < size:
            line = " ".join(rng.choice(words) for _ in range(12)) + "\n"
            text.append(line)
            length += len(line)
        data = "".join(text).encode()[:size]
        name = f"f{i:05}.txt"
    with open(os.path.join(directory, name), "wb") as handle:
        handle.write(data)
