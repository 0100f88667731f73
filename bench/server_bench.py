"""Drives a real `sluice serve` over HTTP and git; prints docs/bench-server.md.

Latency: a commit is pushed to the bare origin, a signed `push` webhook is
sent, and the time from just before sending to the first step's recorded
start (`started_at` of the run's first step, in the history) is measured;
one push at a time. Drain rate: `DRAIN` dispatches of a one-step workflow
are sent as fast as the API takes them, and the runs per second from the
first queued to the last finished are measured, with two workers.
"""
import datetime
import hashlib
import hmac
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request

SLUICE = os.environ["SLUICE"]
WORK = os.environ["BENCH_WORK"]
SECRET = "bench-secret"
PUSHES = int(os.environ.get("PUSHES", "30"))
DRAIN = int(os.environ.get("DRAIN", "200"))

WORKFLOW = """name: Bench
on: [push, workflow_dispatch]
jobs:
  one:
    runs-on: ubuntu-latest
    steps:
      - run: echo one step
"""


def git(cwd, *args):
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def setup():
    git(WORK, "init", "-q", "--bare", "-b", "main", "origin.git")
    git(WORK, "clone", "-q", "origin.git", "work")
    work = os.path.join(WORK, "work")
    git(work, "config", "user.name", "bench")
    git(work, "config", "user.email", "bench@example.invalid")
    os.makedirs(os.path.join(work, ".github/workflows"))
    with open(os.path.join(work, ".github/workflows/bench.yml"), "w") as f:
        f.write(WORKFLOW)
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "bench")
    git(work, "push", "-q", "origin", "HEAD:main")
    git(WORK, "clone", "-q", "origin.git", "server")
    return work, os.path.join(WORK, "server")


def start(server):
    env = dict(os.environ, SLUICE_WEBHOOK_SECRET=SECRET, SLUICE_CACHE_DIR=os.path.join(WORK, "cache"), NO_COLOR="1")
    proc = subprocess.Popen([SLUICE, "serve", "--listen", "127.0.0.1:0", "--workers", "2"], cwd=server, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline().strip()
    return proc, line.removeprefix("listening on ")


def call(base, method, path, token=None, body=None, headers=None):
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    request = urllib.request.Request(base + path, data=data, method=method, headers=headers or {})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read() or b"null")


def wait_done(base, token, number):
    while True:
        run = call(base, "GET", f"/api/v1/runs/{number}", token)
        if run["status"] not in ("queued", "running"):
            return run
        time.sleep(0.005)


def latency(base, token, work):
    samples = []
    for i in range(PUSHES):
        before = git(work, "rev-parse", "HEAD")
        with open(os.path.join(work, "n.txt"), "w") as f:
            f.write(str(i))
        git(work, "add", "-A")
        git(work, "commit", "-q", "-m", f"push {i}")
        after = git(work, "rev-parse", "HEAD")
        git(work, "push", "-q", "origin", "HEAD:main")
        body = json.dumps({"ref": "refs/heads/main", "before": before, "after": after}).encode()
        signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        sent = time.time() * 1000
        answer = call(base, "POST", "/hooks/github", body=body,
                      headers={"X-GitHub-Event": "push", "X-Hub-Signature-256": signature})
        number = answer["runs"][0]["number"]
        run = wait_done(base, token, number)
        first_step = run["jobs"][0]["steps"][0]["started_at"]
        samples.append(first_step - sent)
    return samples


def drain(base, token):
    numbers = []
    for _ in range(DRAIN):
        answer = call(base, "POST", "/api/v1/dispatch", token, {"workflow": "bench.yml"})
        numbers.append(answer["runs"][0]["number"])
    runs = [wait_done(base, token, n) for n in numbers]
    first_queued = min(r["queued_at"] for r in runs)
    last_finished = max(r["finished_at"] for r in runs)
    failed = [r["number"] for r in runs if r["status"] != "success"]
    return len(runs), (last_finished - first_queued) / 1000, failed


def main():
    work, server = setup()
    token = subprocess.run([SLUICE, "token", "create", "bench"], cwd=server, check=True, capture_output=True,
                           text=True).stdout.strip()
    proc, base = start(server)
    try:
        call(base, "GET", "/api/v1/health")
        samples = latency(base, token, work)
        count, seconds, failed = drain(base, token)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    samples.sort()
    p90 = samples[int(len(samples) * 0.9) - 1]
    version = subprocess.run([SLUICE, "--version"], capture_output=True, text=True).stdout.strip()
    print("# Benchmark: the server\n")
    print(f"Measured {datetime.date.today()} on {os.cpu_count()} cores with `bash bench/server.sh` ({version}, release build),")
    print("a real `sluice serve --workers 2` on loopback, its clone fetching from a bare origin on the same disk.\n")
    print("## Webhook to first step\n")
    print(f"{PUSHES} pushes, one at a time: commit, `git push` to the origin, then a signed `push` webhook;")
    print("measured from just before the webhook is sent to the first step's recorded start.")
    print("The server verifies the signature, fetches the commit from the origin, reads the workflows at it,")
    print("plans, queues (a committed write), wakes a worker, checks the commit out, plans again and starts the job.\n")
    print("| Median | p90 | Min | Max |\n|---|---|---|---|")
    print(f"| {statistics.median(samples):.0f} ms | {p90:.0f} ms | {samples[0]:.0f} ms | {samples[-1]:.0f} ms |\n")
    print("## Draining a queue of one-step runs\n")
    print(f"{count} dispatches of a one-step workflow sent back to back through `POST /api/v1/dispatch`;")
    print("from the first queued to the last finished, two workers:\n")
    print(f"**{count / seconds:.1f} runs/s** ({count} runs in {seconds:.1f} s; {len(failed)} failed).\n")
    print("## Command\n")
    print("```sh\nbash bench/server.sh        # PUSHES=30 DRAIN=200 by default\n```")


if __name__ == "__main__":
    sys.exit(main())
