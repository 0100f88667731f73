"""The disk's limit for a restore: create the files of TREE under DEST
with THREADS threads and nothing else (the bytes are read into memory
first and not timed), printing the seconds the creating took.

    python3 bench/create_files.py TREE DEST THREADS
"""
import os
import sys
import threading
import time

tree, dest, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
files, dirs = [], []
for root, subdirs, names in os.walk(tree):
    rel = os.path.relpath(root, tree)
    dirs.append(rel)
    for name in names:
        path = os.path.join(root, name)
        with open(path, "rb") as f:
            files.append((os.path.join(rel, name), f.read(), os.stat(path).st_mode & 0o777))
start = time.monotonic()
for rel in dirs:
    os.makedirs(os.path.join(dest, rel), exist_ok=True)
def write(share):
    for rel, data, mode in share:
        with open(os.path.join(dest, rel), "wb") as f:
            f.write(data)
        os.chmod(os.path.join(dest, rel), mode)
workers = [threading.Thread(target=write, args=(files[i::threads],)) for i in range(threads)]
for w in workers:
    w.start()
for w in workers:
    w.join()
print(f"{time.monotonic() - start:.4f}")
