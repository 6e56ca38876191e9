#!/usr/bin/env python3
"""A file server for reconcile's tests: loopback only, honours Range and If-Range, logs requests,
and misbehaves on request.

Usage: test_http_server.py DIRECTORY
Prints the port it listens on (127.0.0.1, chosen by the system) as the first line of stdout and
exits when its stdin closes, so it never outlives the test process that started it.

Control endpoints (not logged):
  GET  /__log     JSON list of {method, path, host, time, range, if_range, authorization_present};
                  `time` is when the request arrived (seconds since the epoch, a float)
  POST /__reset   clears the log and every behaviour
  POST /__behave  {"path": "/x/y.bin", "mode": MODE, "count": n, "rate": bytes_per_s, "status": code,
                   "location": "/other", "retry_after": "2", "length": n, "limit": n,
                   "header_bytes": n, "one_line": bool, "range_from": n}
MODE is one of: fail (answer `status`, default 500, for the next `count` requests, default 1),
truncate (declare the full length, send half, close), wrong-bytes (same length, other content),
ignore-range (always 200 with the whole file), stall (send the first 64 KiB, then hang until the
client gives up), throttle (send at `rate` bytes/s; 1 is a drip), status (always answer
`status`), redirect (answer `status`, default 302, with `Location: location`), silent (accept
the request, then send nothing until the client gives up), endless (200 without Content-Length:
the file, then filler bytes until the client gives up), lie (200 declaring `Content-Length:
length`, whatever the file's size and any Range; send `limit` bytes, default `length`: the file,
then filler bytes; close), huge-headers (200 with `header_bytes` bytes of extra header lines,
as one line when `one_line`, then the file).
`retry_after`, with fail and status, is sent as `Retry-After`: as given (delay-seconds), or for
"date:N" an HTTP-date N seconds from now.
`count`, when given, limits any mode to that many requests.
`range_from`, when given, limits any mode to requests whose Range starts at that byte (so one
range of a file can be throttled while the others are served at once); other requests of the
path are served normally and do not count.
"""

import email.utils
import json
import os
import select
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler

from loopback_server import QuietServer, exit_when_stdin_closes, parse_range

ROOT = os.path.realpath(sys.argv[1] if len(sys.argv) > 1 else ".")
STALL_PREFIX = 64 * 1024
STALL_LIMIT_SECONDS = 120
# `endless` gives up after this many bytes, should a client never stop reading.
ENDLESS_LIMIT = 1 << 30
CHUNK = 256 * 1024
WRONG_BYTES = bytes(b ^ 0x5A for b in range(256))

state_lock = threading.Lock()
request_log = []
behaviours = {}


def range_start(header):
    """The first byte of a `bytes=N-...` Range header, or None."""
    if not header or not header.startswith("bytes="):
        return None
    text = header[len("bytes="):].partition("-")[0].strip()
    return int(text) if text.isdigit() else None


def take_behaviour(path, range_header):
    """The behaviour for `path` and a request with `range_header`, counting one use; None when
    there is none (left) or it is for another range."""
    with state_lock:
        behaviour = behaviours.get(path)
        if behaviour is None:
            return None
        if behaviour.get("range_from") is not None and range_start(range_header) != behaviour["range_from"]:
            return None
        count = behaviour.get("count")
        if count is not None:
            if count <= 0:
                del behaviours[path]
                return None
            behaviour["count"] = count - 1
        return dict(behaviour)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "reconcile-test"

    def version_string(self):
        return self.server_version

    def log_message(self, format, *args):
        pass

    # Control endpoints -------------------------------------------------------------------

    def send_json(self, status, value):
        body = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def do_POST(self):
        path = urllib.parse.urlsplit(self.path).path
        body = self.read_body()
        if path == "/__reset":
            with state_lock:
                request_log.clear()
                behaviours.clear()
            return self.send_json(200, {"ok": True})
        if path == "/__behave":
            try:
                spec = json.loads(body or b"{}")
                target = spec["path"]
                mode = spec["mode"]
            except (ValueError, KeyError) as error:
                return self.send_json(400, {"error": str(error)})
            if mode not in ("fail", "truncate", "wrong-bytes", "ignore-range", "stall", "throttle", "status", "redirect",
                            "silent", "endless", "lie", "huge-headers"):
                return self.send_json(400, {"error": "unknown mode " + mode})
            count = spec.get("count")
            if count is None and mode == "fail":
                count = 1
            default_status = 302 if mode == "redirect" else 500
            behaviour = {"mode": mode, "count": count, "rate": spec.get("rate") or 1024 * 1024,
                         "status": spec.get("status") or default_status, "location": spec.get("location") or "/",
                         "retry_after": spec.get("retry_after"), "length": spec.get("length"),
                         "limit": spec.get("limit"), "header_bytes": spec.get("header_bytes") or 0,
                         "one_line": bool(spec.get("one_line")), "range_from": spec.get("range_from")}
            with state_lock:
                behaviours[target] = behaviour
            return self.send_json(200, {"ok": True})
        self.send_json(405, {"error": "POST only for /__reset and /__behave"})

    # Files -------------------------------------------------------------------------------

    def do_HEAD(self):
        self.serve(head=True)

    def do_GET(self):
        if urllib.parse.urlsplit(self.path).path == "/__log":
            with state_lock:
                entries = list(request_log)
            return self.send_json(200, entries)
        self.serve(head=False)

    def serve(self, head):
        path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
        with state_lock:
            request_log.append({
                "method": self.command,
                "path": path,
                "host": self.headers.get("Host"),
                "time": time.time(),
                "range": self.headers.get("Range"),
                "if_range": self.headers.get("If-Range"),
                "authorization_present": self.headers.get("Authorization") is not None,
            })
        behaviour = take_behaviour(path, self.headers.get("Range"))
        mode = behaviour["mode"] if behaviour else None
        if mode in ("fail", "status"):
            return self.send_error_status(behaviour["status"], retry_after=behaviour["retry_after"])
        if mode == "redirect":
            return self.send_error_status(behaviour["status"], location=behaviour["location"])
        if mode == "silent":
            self.close_connection = True
            return self.hang()

        file_path = os.path.realpath(os.path.join(ROOT, path.lstrip("/")))
        if not (file_path == ROOT or file_path.startswith(ROOT + os.sep)) or not os.path.isfile(file_path):
            return self.send_error_status(404)
        info = os.stat(file_path)
        size = info.st_size
        etag = '"%d-%d"' % (size, info.st_mtime_ns)
        last_modified = email.utils.formatdate(info.st_mtime, usegmt=True)

        first, last = 0, size - 1
        partial = False
        requested = parse_range(self.headers.get("Range"), size)
        if requested is not None and mode != "ignore-range" and self.if_range_holds(etag, last_modified):
            if requested == "unsatisfiable":
                self.send_response(416)
                self.send_header("Content-Range", "bytes */%d" % size)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            first, last = requested
            partial = True

        if mode in ("endless", "lie"):
            return self.send_hostile(file_path, behaviour, head)

        length = max(last - first + 1, 0)
        self.send_response(206 if partial else 200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(length))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", last_modified)
        if partial:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (first, last, size))
        if mode == "huge-headers":
            self.send_huge_headers(behaviour["header_bytes"], behaviour["one_line"])
        if mode in ("truncate", "stall"):
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if head:
            return
        try:
            self.send_body(file_path, first, length, behaviour)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def send_error_status(self, status, location=None, retry_after=None):
        body = ("status %d\n" % status).encode()
        self.send_response(status)
        if location:
            self.send_header("Location", location)
        if retry_after is not None:
            text = str(retry_after)
            if text.startswith("date:"):
                text = email.utils.formatdate(time.time() + float(text[len("date:"):]), usegmt=True)
            self.send_header("Retry-After", text)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_huge_headers(self, total, one_line):
        """`total` bytes of extra header lines: one line, or many of about 100 bytes each."""
        if one_line:
            self.send_header("X-Huge", "a" * max(total - len("X-Huge: \r\n"), 1))
            return
        index = 0
        while total > 0:
            self.send_header("X-Filler-%07d" % index, "a" * 80)
            total -= 100
            index += 1

    def send_hostile(self, file_path, behaviour, head):
        """`endless` and `lie`: the file's bytes, then filler, to a length of the mode's choosing."""
        mode = behaviour["mode"]
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if mode == "lie":
            declared = behaviour["length"] if behaviour["length"] is not None else os.path.getsize(file_path)
            self.send_header("Content-Length", str(declared))
            limit = behaviour["limit"] if behaviour["limit"] is not None else declared
        else:
            limit = ENDLESS_LIMIT
        self.send_header("Connection", "close")
        self.close_connection = True
        self.end_headers()
        if head:
            return
        sent = 0
        try:
            with open(file_path, "rb") as source:
                while sent < limit:
                    data = source.read(min(CHUNK, limit - sent)) or b"\0" * min(CHUNK, limit - sent)
                    self.wfile.write(data)
                    sent += len(data)
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def if_range_holds(self, etag, last_modified):
        value = self.headers.get("If-Range")
        if value is None:
            return True
        if value.startswith('"') or value.startswith("W/"):
            return value == etag  # strong comparison: a weak tag never matches
        return value == last_modified

    def send_body(self, file_path, first, length, behaviour):
        mode = behaviour["mode"] if behaviour else None
        limit = length
        if mode == "truncate":
            limit = length // 2
        elif mode == "stall":
            limit = min(length, STALL_PREFIX)
        rate = behaviour["rate"] if mode == "throttle" else None
        with open(file_path, "rb") as source:
            source.seek(first)
            sent = 0
            started = time.monotonic()
            while sent < limit:
                step = min(CHUNK, limit - sent)
                if rate:
                    step = min(step, max(rate // 20, 1))
                data = source.read(step)
                if not data:
                    break
                if mode == "wrong-bytes":
                    data = data.translate(WRONG_BYTES)
                self.wfile.write(data)
                sent += len(data)
                if rate:
                    ahead = sent / rate - (time.monotonic() - started)
                    if ahead > 0:
                        time.sleep(ahead)
        self.wfile.flush()
        if mode == "stall":
            self.hang()
        if mode in ("truncate", "stall"):
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def hang(self):
        """Waits, sending nothing, until the client closes the connection (or a long limit)."""
        deadline = time.monotonic() + STALL_LIMIT_SECONDS
        while time.monotonic() < deadline:
            readable, _, _ = select.select([self.connection], [], [], 0.2)
            if readable:
                try:
                    if not self.connection.recv(65536):
                        return
                except OSError:
                    return


def main():
    server = QuietServer(("127.0.0.1", 0), Handler)
    exit_when_stdin_closes()
    print(server.server_address[1], flush=True)
    server.serve_forever(poll_interval=0.2)


if __name__ == "__main__":
    main()
