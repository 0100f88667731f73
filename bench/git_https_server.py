#!/usr/bin/env python3
"""A git smart-HTTP server over TLS on loopback, for benchmarks that fetch
actions: `git http-backend` run as a CGI program behind Python's threaded
HTTP server, with the listening address wrapped in TLS.

    git_https_server.py --root DIR --cert cert.pem --key key.pem [--port 0]
                        [--port-file FILE] [--log FILE]

Bare repositories under DIR named OWNER/REPO are served as
https://127.0.0.1:PORT/OWNER/REPO (a request for OWNER/REPO.git is served
from OWNER/REPO too). With --port 0 a free port is taken; --port-file gets
the port once the server accepts connections. --log appends one line per
request (method, path, status, bytes sent). Standard library only.
"""
import argparse
import os
import socket
import ssl
import subprocess
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "bench-git-https"

    def do_GET(self):
        self.backend()

    def do_POST(self):
        self.backend()

    def log_message(self, format, *args):  # quiet: see --log
        pass

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    # Trailers, up to the empty line.
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def backend(self):
        path, _, query = self.path.partition("?")
        path = urllib.parse.unquote(path)
        root = self.server.root
        # OWNER/REPO.git is served from OWNER/REPO when only that exists.
        parts = path.split("/")
        if len(parts) > 2 and parts[2].endswith(".git"):
            plain = parts[2][: -len(".git")]
            if not os.path.isdir(os.path.join(root, parts[1], parts[2])) and os.path.isdir(
                os.path.join(root, parts[1], plain)
            ):
                parts[2] = plain
                path = "/".join(parts)
        body = self.read_body() if self.command == "POST" else b""
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": root,
            "GIT_HTTP_EXPORT_ALL": "1",
            "GATEWAY_INTERFACE": "CGI/1.1",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "REMOTE_ADDR": self.client_address[0],
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
        }
        if self.headers.get("Git-Protocol"):
            env["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
        if self.headers.get("Content-Encoding"):
            env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
        for name in ("HOME", "GIT_EXEC_PATH"):
            if name in os.environ:
                env[name] = os.environ[name]
        result = subprocess.run(
            ["git", "http-backend"], input=body, env=env, capture_output=True
        )
        head, sep, payload = result.stdout.partition(b"\r\n\r\n")
        if not sep:
            head, sep, payload = result.stdout.partition(b"\n\n")
        status, reason, headers = 200, "OK", []
        if not sep:
            status, reason, payload = 502, "Bad Gateway", result.stderr
            headers = [("Content-Type", "text/plain")]
        else:
            for line in head.decode("latin-1").splitlines():
                name, _, value = line.partition(":")
                value = value.strip()
                if name.lower() == "status":
                    code, _, text = value.partition(" ")
                    status, reason = int(code), text or "Status"
                elif name.lower() != "content-length":
                    headers.append((name, value))
        # Logged before the answer is sent, so a client that has its answer
        # finds its request in the log.
        if self.server.log:
            with self.server.log_lock, open(self.server.log, "a") as log:
                log.write(f"{self.command} {self.path} {status} {len(payload)}\n")
        self.send_response(status, reason)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class TLSServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, context, root, log):
        self.context, self.root, self.log = context, root, log
        self.log_lock = threading.Lock()
        super().__init__(address, Handler)

    def finish_request(self, request, client_address):
        # The TLS handshake happens here, in the connection's own thread,
        # so a slow client never holds up accept().
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            super().finish_request(tls, client_address)
        finally:
            try:
                tls.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            tls.close()

    def handle_error(self, request, client_address):
        # A client that hangs up mid-response is not the server's concern.
        if not isinstance(sys.exc_info()[1], (ConnectionError, ssl.SSLError, TimeoutError)):
            super().handle_error(request, client_address)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file")
    parser.add_argument("--log")
    args = parser.parse_args()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    server = TLSServer(("127.0.0.1", args.port), context, os.path.abspath(args.root), args.log)
    port = server.server_address[1]
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as handle:
            handle.write(f"{port}\n")
        os.replace(args.port_file + ".tmp", args.port_file)
    print(f"serving {args.root} on https://127.0.0.1:{port}", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
