"""What the loopback test servers (test_http_server.py, test_hub_server.py) share: Range
parsing, a threaded server quiet about clients that hang up, and exiting with the test."""
import os
import sys
import threading
from http.server import ThreadingHTTPServer


def parse_range(header, size):
    """(first, last) for a single `bytes=N-`, `bytes=N-M` or `bytes=-K`; "unsatisfiable"; or
    None when there is no usable Range header (then the whole file is sent)."""
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    start_text, _, end_text = header[len("bytes="):].strip().partition("-")
    try:
        if start_text == "":
            suffix = int(end_text)
            return "unsatisfiable" if suffix <= 0 else (max(size - suffix, 0), size - 1)
        first = int(start_text)
        last = int(end_text) if end_text else size - 1
    except ValueError:
        return None
    if first >= size:
        return "unsatisfiable"
    if last < first:
        return None
    return (first, min(last, size - 1))


class QuietServer(ThreadingHTTPServer):
    """A threaded server on 127.0.0.1 that ignores clients giving up mid-answer (stall and
    cancellation tests expect that)."""
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError, TimeoutError)):
            return
        super().handle_error(request, client_address)


def exit_when_stdin_closes():
    """Ends the process when the test closes our stdin, so a server never outlives its test."""
    def watch():
        try:
            while sys.stdin.buffer.read(4096):
                pass
        finally:
            os._exit(0)
    threading.Thread(target=watch, daemon=True).start()
