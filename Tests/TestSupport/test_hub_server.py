#!/usr/bin/env python3
"""A stand-in for the Hugging Face Hub and its CDN for reconcile's tests: loopback only, two ports.

Usage: test_hub_server.py DIRECTORY [--token TOKEN] [--page-size N] [--lfs-threshold BYTES] [--cdn-base URL]
Prints "HUB_PORT CDN_PORT" as the first line of stdout and exits when its stdin closes, so it
never outlives the test process that started it.

DIRECTORY holds repositories, each at every commit in full:
  <dir>/<org>/<repo>/<commit>/<path>              model repositories
  <dir>/datasets/<org>/<repo>/<commit>/<path>     dataset repositories
  <dir>/<...>/<org>/<repo>/refs.json              {"main": "<commit>", "v1.0": "<commit>"}
  <dir>/private.txt                               one "org/repo" or "datasets/org/repo" a line
Files of at least --lfs-threshold bytes (default 1024) are treated as stored with LFS.

Hub port, after the documented Hub API:
  GET /api/{models|datasets}/ORG/REPO/revision/REV   {"id", "sha", "siblings": [{"rfilename"}]}
  GET /api/{models|datasets}/ORG/REPO/tree/REV[/PATH][?recursive=true][&cursor=C]
      [{"type": "file"|"directory", "oid": git blob sha1, "size", "path",
        "lfs": {"oid": sha256, "size", "pointerSize"}}], at most --page-size entries (default
      1000) a page, the next page in `Link: <URL>; rel="next"`
  GET|HEAD /[datasets/]ORG/REPO/resolve/REV/PATH     302 to the CDN port with X-Repo-Commit,
      X-Linked-Size, and X-Linked-Etag: "<sha256>" (LFS files) or ETag: "<git blob sha1>"
  Errors carry X-Error-Code (RepoNotFound, RevisionNotFound, EntryNotFound) as the Hub's do.
  With --token, repositories in private.txt answer 401 without `Authorization: Bearer TOKEN`
  and 403 with another token.
CDN port: GET|HEAD /repos/... serves the bytes, honouring Range and If-Range (ETag "<sha256>").
With --cdn-base (a benchmark's nginx serving DIRECTORY under /repos/), resolve redirects there.

Both ports (not logged): GET /__log (JSON list of {method, path, query, range, if_range,
authorization_present, client_port}; a header's value is never logged; requests with the same
client_port came over one connection) and POST /__reset (clears the log).
"""

import argparse
import base64
import hashlib
import json
import os
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler

from loopback_server import QuietServer, exit_when_stdin_closes, parse_range

CHUNK = 256 * 1024

arguments = argparse.ArgumentParser()
arguments.add_argument("directory")
arguments.add_argument("--token")
arguments.add_argument("--page-size", type=int, default=1000)
arguments.add_argument("--lfs-threshold", type=int, default=1024)
arguments.add_argument("--cdn-base")
options = arguments.parse_args()
ROOT = os.path.realpath(options.directory)

ports = {}
digest_cache = {}
digest_lock = threading.Lock()


def digests(file_path):
    """(size, sha256 hex, git blob sha1 hex of the content) of a file, cached by size and mtime."""
    info = os.stat(file_path)
    key = (file_path, info.st_size, info.st_mtime_ns)
    with digest_lock:
        if key in digest_cache:
            return digest_cache[key]
    sha256 = hashlib.sha256()
    sha1 = hashlib.sha1(b"blob %d\0" % info.st_size)
    with open(file_path, "rb") as source:
        while True:
            data = source.read(CHUNK)
            if not data:
                break
            sha256.update(data)
            sha1.update(data)
    value = (info.st_size, sha256.hexdigest(), sha1.hexdigest())
    with digest_lock:
        digest_cache[key] = value
    return value


def git_blob_sha1(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(sha256, size):
    return ("version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %d\n" % (sha256, size)).encode()


def file_entry(repo_dir, commit, path):
    """The tree API's entry for a file."""
    size, sha256, sha1 = digests(os.path.join(repo_dir, commit, path))
    entry = {"type": "file", "oid": sha1, "size": size, "path": path}
    if size >= options.lfs_threshold:
        pointer = lfs_pointer(sha256, size)
        entry["oid"] = git_blob_sha1(pointer)  # git stores the pointer, not the content
        entry["lfs"] = {"oid": sha256, "size": size, "pointerSize": len(pointer)}
    return entry


def private_repos():
    try:
        with open(os.path.join(ROOT, "private.txt")) as listing:
            return {line.strip() for line in listing if line.strip()}
    except FileNotFoundError:
        return set()


class LoggingHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "reconcile-test-hub"

    def version_string(self):
        return self.server_version

    def log_message(self, format, *args):
        pass

    def send_bytes(self, status, body, content_type="application/json", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, status, value, headers=()):
        self.send_bytes(status, json.dumps(value).encode(), headers=headers)

    def control(self):
        """Answers /__log and /__reset; False for any other request, which is then logged."""
        path = urllib.parse.urlsplit(self.path).path
        if path == "/__log" and self.command == "GET":
            with self.server.log_lock:
                entries = list(self.server.log)
            self.send_json(200, entries)
            return True
        if path == "/__reset" and self.command == "POST":
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            with self.server.log_lock:
                self.server.log.clear()
            self.send_json(200, {"ok": True})
            return True
        split = urllib.parse.urlsplit(self.path)
        with self.server.log_lock:
            self.server.log.append({
                "method": self.command,
                "path": urllib.parse.unquote(split.path),
                "query": split.query,
                "range": self.headers.get("Range"),
                "if_range": self.headers.get("If-Range"),
                "authorization_present": self.headers.get("Authorization") is not None,
                "client_port": self.client_address[1],
            })
        return False

    def do_POST(self):
        if not self.control():
            self.send_json(405, {"error": "POST only for /__reset"})


class HubHandler(LoggingHandler):
    def do_GET(self):
        if not self.control():
            self.route()

    def do_HEAD(self):
        if not self.control():
            self.route()

    def error(self, status, code, message):
        headers = [("X-Error-Code", code)] if code else []
        headers.append(("X-Error-Message", message))
        self.send_json(status, {"error": message}, headers=headers)

    def route(self):
        split = urllib.parse.urlsplit(self.path)
        # Split before decoding: a revision may hold an encoded "/" (refs%2Fpr%2F1).
        segments = [urllib.parse.unquote(s) for s in split.path.split("/")[1:]]
        query = urllib.parse.parse_qs(split.query)
        if len(segments) >= 6 and segments[0] == "api" and segments[1] in ("models", "datasets"):
            kind = "datasets/" if segments[1] == "datasets" else ""
            org, name, operation = segments[2], segments[3], segments[4]
            if operation == "revision" and self.command == "GET":
                return self.revision(kind, org, name, "/".join(segments[5:]))
            if operation == "tree" and self.command == "GET":
                return self.tree(kind, org, name, segments[5], "/".join(segments[6:]), query, split)
            return self.error(404, None, "unknown API route")
        kind = ""
        if segments and segments[0] == "datasets":
            kind, segments = "datasets/", segments[1:]
        if len(segments) >= 5 and segments[2] == "resolve":
            return self.resolve(kind, segments[0], segments[1], segments[3], "/".join(segments[4:]))
        self.error(404, None, "unknown route")

    def repository(self, kind, org, name, revision):
        """(repo directory, commit), or None after answering with the error."""
        repo_id = kind + org + "/" + name
        if options.token and repo_id in private_repos():
            sent = self.headers.get("Authorization")
            if sent is None:
                self.error(401, "RepoNotFound", "Repository not found: authentication required")
                return None
            if sent != "Bearer " + options.token:
                self.error(403, None, "Access to this repository is restricted")
                return None
        repo_dir = os.path.join(ROOT, kind, org, name)
        if not os.path.isdir(repo_dir):
            self.error(404, "RepoNotFound", "Repository not found")
            return None
        refs = {}
        try:
            with open(os.path.join(repo_dir, "refs.json")) as listing:
                refs = json.load(listing)
        except FileNotFoundError:
            pass
        commit = refs.get(revision, revision)
        if "/" in commit or commit in (".", "..") or not os.path.isdir(os.path.join(repo_dir, commit)):
            self.error(404, "RevisionNotFound", "Invalid rev id: " + revision)
            return None
        return repo_dir, commit

    def files(self, repo_dir, commit):
        base = os.path.join(repo_dir, commit)
        found = []
        for directory, subdirectories, names in os.walk(base):
            subdirectories.sort()
            for name in names:
                found.append(os.path.relpath(os.path.join(directory, name), base).replace(os.sep, "/"))
        return sorted(found)

    def revision(self, kind, org, name, revision):
        found = self.repository(kind, org, name, revision)
        if found:
            repo_dir, commit = found
            siblings = [{"rfilename": path} for path in self.files(repo_dir, commit)]
            self.send_json(200, {"id": org + "/" + name, "sha": commit, "siblings": siblings})

    def tree(self, kind, org, name, revision, prefix, query, split):
        found = self.repository(kind, org, name, revision)
        if not found:
            return
        repo_dir, commit = found
        recursive = query.get("recursive", ["false"])[0].lower() == "true"
        entries, directories = [], set()
        for path in self.files(repo_dir, commit):
            if prefix and not path.startswith(prefix + "/"):
                continue
            relative = path[len(prefix) + 1:] if prefix else path
            parts = relative.split("/")
            if not recursive and len(parts) > 1:
                directories.add((prefix + "/" if prefix else "") + parts[0])
                continue
            for depth in range(1, len(parts)):
                directories.add((prefix + "/" if prefix else "") + "/".join(parts[:depth]))
            entries.append(file_entry(repo_dir, commit, path))
        for directory in directories:
            entries.append({"type": "directory", "oid": hashlib.sha1(directory.encode()).hexdigest(), "size": 0, "path": directory})
        entries.sort(key=lambda entry: entry["path"])
        if prefix and not entries:
            return self.error(404, "EntryNotFound", "No such path: " + prefix)
        cursor = query.get("cursor", [""])[0]
        start = int(base64.urlsafe_b64decode(cursor.encode()).decode()) if cursor else 0
        page = entries[start:start + options.page_size]
        headers = []
        if start + options.page_size < len(entries):
            following = base64.urlsafe_b64encode(str(start + options.page_size).encode()).decode()
            next_query = urllib.parse.urlencode({"recursive": "true" if recursive else "false", "cursor": following})
            next_url = "http://127.0.0.1:%d%s?%s" % (ports["hub"], split.path, next_query)
            headers.append(("Link", '<%s>; rel="next"' % next_url))
        self.send_json(200, page, headers=headers)

    def resolve(self, kind, org, name, revision, path):
        found = self.repository(kind, org, name, revision)
        if not found:
            return
        repo_dir, commit = found
        file_path = os.path.realpath(os.path.join(repo_dir, commit, path))
        if not file_path.startswith(os.path.join(repo_dir, commit) + os.sep) or not os.path.isfile(file_path):
            return self.error(404, "EntryNotFound", "Entry not found")
        size, sha256, sha1 = digests(file_path)
        base = options.cdn_base or "http://127.0.0.1:%d" % ports["cdn"]
        location = "%s/repos/%s%s/%s/%s/%s?expires=4102444800" % (
            base, kind, urllib.parse.quote(org), urllib.parse.quote(name), commit, urllib.parse.quote(path))
        headers = [("Location", location), ("X-Repo-Commit", commit), ("X-Linked-Size", str(size))]
        if size >= options.lfs_threshold:
            headers.append(("X-Linked-Etag", '"%s"' % sha256))
            headers.append(("ETag", '"%s"' % git_blob_sha1(lfs_pointer(sha256, size))))
        else:
            headers.append(("ETag", '"%s"' % sha1))
        self.send_bytes(302, ("Found. Redirecting to %s" % location).encode(), "text/plain", headers)


class CDNHandler(LoggingHandler):
    def do_GET(self):
        if not self.control():
            self.serve()

    def do_HEAD(self):
        if not self.control():
            self.serve()

    def serve(self):
        path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
        if not path.startswith("/repos/"):
            return self.send_bytes(404, b"not found\n", "text/plain")
        file_path = os.path.realpath(os.path.join(ROOT, path[len("/repos/"):]))
        if not file_path.startswith(ROOT + os.sep) or not os.path.isfile(file_path):
            return self.send_bytes(404, b"not found\n", "text/plain")
        size, sha256, _ = digests(file_path)
        etag = '"%s"' % sha256
        first, last, partial = 0, size - 1, False
        requested = parse_range(self.headers.get("Range"), size)
        if_range = self.headers.get("If-Range")
        if requested is not None and (if_range is None or if_range == etag):
            if requested == "unsatisfiable":
                return self.send_bytes(416, b"", "text/plain", [("Content-Range", "bytes */%d" % size)])
            first, last = requested
            partial = True
        length = max(last - first + 1, 0)
        self.send_response(206 if partial else 200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(length))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("ETag", etag)
        if partial:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (first, last, size))
        self.end_headers()
        if self.command == "HEAD":
            return
        try:
            with open(file_path, "rb") as source:
                source.seek(first)
                remaining = length
                while remaining > 0:
                    data = source.read(min(CHUNK, remaining))
                    if not data:
                        break
                    self.wfile.write(data)
                    remaining -= len(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


class Server(QuietServer):
    def __init__(self, handler):
        super().__init__(("127.0.0.1", 0), handler)
        self.log = []
        self.log_lock = threading.Lock()


def main():
    hub, cdn = Server(HubHandler), Server(CDNHandler)
    ports["hub"], ports["cdn"] = hub.server_address[1], cdn.server_address[1]
    exit_when_stdin_closes()
    threading.Thread(target=cdn.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
    print(ports["hub"], ports["cdn"], flush=True)
    hub.serve_forever(poll_interval=0.2)


if __name__ == "__main__":
    main()
