"""Command line entry point: ``python -m tests.emulator`` (run from the repository root).

Prints one JSON line on start-up, then serves until SIGTERM / SIGINT::

    {"url": "<collection url>", "base": "http://127.0.0.1:<port>", "mode": "hosted",
     "server_version": "cloud", "pid": 1234, "ca_file": null}
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
from typing import Any

from .apiversion import SERVER_VERSIONS
from .server import EmulatorApp, EmulatorHTTPServer
from .state import DEFAULT_FIXTURE, load_state

DEFAULT_SERVER_VERSION = {"hosted": "cloud", "onprem": "2022.1"}


def build_parser() -> argparse.ArgumentParser:
    """The CLI argument parser."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.emulator",
        description="Local Azure DevOps Services / Azure DevOps Server emulator for tests and demos.",
    )
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0 = any free port)")
    parser.add_argument("--mode", choices=("hosted", "onprem"), default="hosted",
                        help="hosted (cloud organisation) or onprem (server with collections)")
    parser.add_argument("--server-version", choices=tuple(SERVER_VERSIONS), default=None,
                        help="emulated server version (default: cloud for hosted, 2022.1 for onprem)")
    parser.add_argument("--state", default=str(DEFAULT_FIXTURE), help="fixture file (YAML or JSON)")
    parser.add_argument("--tls", action="store_true", help="serve HTTPS with a generated certificate")
    parser.add_argument("--cert-dir", default=None,
                        help="where --tls writes ca.pem / server.pem / server-key.pem (default: a temp dir)")
    parser.add_argument("--iis-basic-auth", action="store_true",
                        help="onprem: start with IIS Basic authentication enabled (breaks PATs)")
    parser.add_argument("--verbose", action="store_true", help="access log on stderr")
    parser.add_argument("--watch-stdin", action="store_true",
                        help="stop when stdin reaches end of file (the parent process went away)")
    return parser


def _watch_stdin(stop: threading.Event) -> None:
    # os.read on the descriptor: no buffered-reader lock held at interpreter shutdown.
    try:
        fileno = sys.stdin.fileno()
        while os.read(fileno, 4096):
            pass
    except (OSError, ValueError):
        pass
    stop.set()


def _tls_setup(cert_dir: str | None) -> tuple[Any, str, str | None]:
    """Generate TLS material; return (SSL context, CA file path, temp dir to remove or None)."""
    from . import tls  # pylint: disable=import-outside-toplevel  # cryptography only when needed

    temp_dir = None
    if cert_dir is None:
        temp_dir = tempfile.mkdtemp(prefix="azdo-emulator-tls-")
        cert_dir = temp_dir
    ca_path, cert_path, key_path = tls.generate(cert_dir)
    return tls.server_context(cert_path, key_path), str(ca_path.resolve()), temp_dir


def main(argv: list[str] | None = None) -> int:
    """Run the emulator until a signal arrives; return the exit status."""
    args = build_parser().parse_args(argv)
    server_version = args.server_version or DEFAULT_SERVER_VERSION[args.mode]
    state = load_state(args.state)
    app = EmulatorApp(state, args.mode, server_version)
    if args.iis_basic_auth:
        app.configure(iis_basic_auth=True)

    context, ca_file, temp_dir = _tls_setup(args.cert_dir) if args.tls else (None, None, None)
    httpd = EmulatorHTTPServer(args.port, app, context, verbose=args.verbose)
    stop = threading.Event()

    def _on_signal(_signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    if args.watch_stdin:
        threading.Thread(target=_watch_stdin, args=(stop,), daemon=True).start()

    serving = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    serving.start()
    info = {
        "url": app.primary_url,
        "base": app.base,
        "mode": app.mode,
        "server_version": server_version,
        "pid": os.getpid(),
        "ca_file": ca_file,
    }
    sys.stdout.write(json.dumps(info) + "\n")
    sys.stdout.flush()
    try:
        while not stop.wait(0.5):
            pass
    finally:
        httpd.shutdown()
        httpd.server_close()
        if temp_dir:
            shutil.rmtree(temp_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
