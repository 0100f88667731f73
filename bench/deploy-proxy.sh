#!/usr/bin/env bash
# The deploy proxy's cost: requests per second and latency percentiles
# with wrk against an app directly, through Sluice's proxy (the process
# `sluice deploy` starts), and through nginx as a reverse proxy (upstream
# keep-alive, as its router setup would have it), in one run on this
# machine. The "app" is an nginx answering a fixed body, faster than
# either proxy, so that the proxies' cost shows.
#
#   bash bench/deploy-proxy.sh    # needs nginx and wrk (apt-get install nginx wrk)
#
# Writes docs/bench-deploy-proxy.md.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
nginx=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$nginx" ] || { echo "nginx is needed: apt-get install nginx" >&2; exit 2; }
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 2; }
cargo build --release -q -p sluice
sluice="$here/target/release/sluice"
duration=${DURATION:-10}
rounds=${ROUNDS:-3}
connections=${CONNECTIONS:-50}
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; sleep 0.5; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
app=$(free_port); via_sluice=$(free_port); via_nginx=$(free_port)

nginx_conf() {  # $1: dir, $2: workers, $3: server block
  mkdir -p "$1/logs" "$1/temp"
  cat > "$1/nginx.conf" <<CONF
daemon off;
worker_processes $2;
pid $1/nginx.pid;
error_log $1/logs/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $1/temp/body; proxy_temp_path $1/temp/proxy;
  fastcgi_temp_path $1/temp/fastcgi; uwsgi_temp_path $1/temp/uwsgi; scgi_temp_path $1/temp/scgi;
  keepalive_requests 1000000;
  $3
}
CONF
  "$nginx" -e stderr -p "$1" -c "$1/nginx.conf" 2>/dev/null &
  pids+=($!)
}
nginx_conf "$work/app" 1 "server { listen 127.0.0.1:$app; location / { return 200 \"ok\n\"; } }"
nginx_conf "$work/proxy" 2 "upstream app { server 127.0.0.1:$app; keepalive 64; }
  server { listen 127.0.0.1:$via_nginx; location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection \"\"; } }"
mkdir -p "$work/sluice"
chmod 700 "$work/sluice"
echo "{\"colour\": \"blue\", \"port\": $app}" > "$work/sluice/route.json"
"$sluice" __proxy --listen "127.0.0.1:$via_sluice" --dir "$work/sluice" 2>/dev/null &
pids+=($!)
for port in $app $via_sluice $via_nginx; do
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/" >/dev/null && break; sleep 0.1; done
  curl -fs "http://127.0.0.1:$port/" >/dev/null || { echo "nothing answers on $port" >&2; exit 1; }
done

: > "$work/results.txt"
measure() {  # $1: label, $2: port
  wrk -t2 -c"$connections" -d"${duration}s" --latency "http://127.0.0.1:$2/" > "$work/wrk.txt"
  python3 - "$1" "$work/wrk.txt" >> "$work/results.txt" <<'PY'
import re, sys
label, text = sys.argv[1], open(sys.argv[2]).read()
def ms(value, unit):
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
pct = {p: ms(v, u) for p, v, u in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)", text, re.M)}
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
sock = re.search(r"Socket errors: (.*)", text)
print(label, rps, pct["50"], pct["99"], errors.group(1) if errors else 0, (sock.group(1) if sock else "none").replace(" ", "_"))
PY
}
for _ in $(seq 1 "$rounds"); do   # interleaved, so that drift hits all alike
  measure direct "$app"
  measure sluice "$via_sluice"
  measure nginx "$via_nginx"
done
python3 - "$work/results.txt" "$duration" "$rounds" "$connections" > "$here/docs/bench-deploy-proxy.md" <<'PY'
import datetime, os, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    label, rps, p50, p99, errors, sock = line.split()
    rows.setdefault(label, []).append((float(rps), float(p50), float(p99), int(errors), sock))
duration, rounds, connections = sys.argv[2:5]
med = lambda label, i: statistics.median(r[i] for r in rows[label])
print("# Benchmark: the deploy proxy's cost\n")
print(f"Measured {datetime.date.today()} on {os.cpu_count()} cores with `bash bench/deploy-proxy.sh` (release build).")
print(f"wrk, 2 threads, {connections} keep-alive connections, {duration} s per measurement, {rounds} rounds interleaved")
print("(direct, Sluice, nginx); medians of the rounds. The app is an nginx worker answering `ok`; Sluice's proxy")
print("is the process `sluice deploy` starts (`sluice __proxy`, two threads), routing to it; nginx proxies with")
print("two workers and a keep-alive upstream, as `router = \"nginx\"` setups do. Client, proxy and app share")
print("the machine's cores, so the ratios, not the absolute figures, carry over.\n")
print("| Path | Requests/s | p50 | p99 | Non-2xx | Socket errors |\n|---|---|---|---|---|---|")
for label, name in [("direct", "client → app"), ("sluice", "client → Sluice's proxy → app"), ("nginx", "client → nginx → app")]:
    print(f"| {name} | {med(label, 0):,.0f} | {med(label, 1):.2f} ms | {med(label, 2):.2f} ms | "
          f"{sum(r[3] for r in rows[label])} | {', '.join(sorted(set(r[4] for r in rows[label])))} |")
s, n, d = med("sluice", 0), med("nginx", 0), med("direct", 0)
print(f"\nThroughput: Sluice's proxy **{s / d:.2f}×** direct, nginx **{n / d:.2f}×** direct; Sluice / nginx = **{s / n:.2f}×**.")
print(f"p99 latency: Sluice **{med('sluice', 2) / med('nginx', 2):.2f}×** nginx's.")
print("\n## Command\n\n```sh\nbash bench/deploy-proxy.sh   # DURATION=10 ROUNDS=3 CONNECTIONS=50\n```")
PY
cat "$here/docs/bench-deploy-proxy.md"
