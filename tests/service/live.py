"""A service listening on a real port (uvicorn in a thread), for clients outside the
process: the browser, the crash and concurrency tests' clients."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager

import httpx
import uvicorn


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(base: str, proc, timeout: float = 120.0) -> None:
    """Wait until the server process ``proc`` answers ``GET /health`` with 200 at ``base``;
    raises with the server's error output if it exits or ``timeout`` seconds pass first."""
    t0 = time.monotonic()
    while True:
        try:
            if httpx.get(f"{base}/health").status_code == 200:
                return
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() - t0 > timeout:
            raise RuntimeError(f"the server did not start: {proc.stderr.read()}")
        time.sleep(0.1)


@contextmanager
def serving(app):
    """Serve ``app`` on a free port of 127.0.0.1; yields the base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    t0 = time.monotonic()
    while not server.started:
        if time.monotonic() - t0 > 30 or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)
