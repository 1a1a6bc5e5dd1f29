"""Local Azure DevOps Services / Azure DevOps Server emulator for tests and demos.

Start it from Python (pytest fixtures)::

    from tests.emulator import start_emulator

    with start_emulator(mode="onprem", server_version="2019") as emu:
        requests.get(f"{emu.url}/_apis/connectionData", auth=("", emu.token("good")), verify=emu.verify)
        emu.faults([{"path": "/_apis/projects", "status": 429, "retry_after": "1"}])
        emu.requests()          # the request log (no secrets)

or from a shell (repository root)::

    python -m tests.emulator --port 0 --mode hosted --state tests/emulator/fixtures/default.yml

The server itself uses only the standard library, PyYAML and cryptography;
this helper also uses ``requests`` (imported when called).
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .state import DEFAULT_FIXTURE, load_fixture_data

__all__ = ["Emulator", "EmulatorStartError", "start_emulator", "DEFAULT_FIXTURE", "load_fixture_data"]

REPO_ROOT = Path(__file__).resolve().parents[2]


class EmulatorStartError(RuntimeError):
    """The emulator process did not come up."""


class Emulator:
    """A running emulator process and helpers for its control API."""

    def __init__(self, process: subprocess.Popen, info: dict[str, Any], fixture: dict[str, Any],
                 fixture_path: Path, temp_files: list[Path] | None = None) -> None:
        self.process = process
        self.info = info
        self.url: str = info["url"]
        self.base: str = info["base"]
        self.mode: str = info["mode"]
        self.server_version: str = info["server_version"]
        self.pid: int = info["pid"]
        self.ca_file: str | None = info.get("ca_file")
        self.fixture = fixture
        self.fixture_path = fixture_path
        self._temp_files = temp_files or []

    # -- lifecycle ----------------------------------------------------

    @property
    def verify(self) -> str | bool:
        """What to pass as ``verify=`` to requests (the CA file with --tls)."""
        return self.ca_file or True

    def stop(self, timeout: float = 10.0) -> int | None:
        """Stop the process (SIGTERM, then SIGKILL after ``timeout``); return its exit status."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()
        for path in self._temp_files:
            path.unlink(missing_ok=True)
        self._temp_files = []
        return self.process.returncode

    def __enter__(self) -> "Emulator":
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.stop()

    # -- fixture helpers ----------------------------------------------

    def credential(self, key: str) -> dict[str, Any]:
        """The fixture entry of a credential (PAT or access token) by key."""
        for section in ("credentials", "pats", "access_tokens"):
            entries = self.fixture.get(section) or {}
            if isinstance(entries, dict) and key in entries:
                return entries[key]
            if isinstance(entries, list):
                for entry in entries:
                    if entry.get("key") == key:
                        return entry
        raise KeyError(key)

    def token(self, key: str) -> str:
        """The secret of a credential by key."""
        return str(self.credential(key)["token"])

    def host_url(self, host: str) -> str:
        """Hosted: the organisation URL on another host (``vssps``, ``feeds``, ``vsrm``); onprem: ``url``."""
        if self.mode != "hosted" or host == "app":
            return self.url
        organization = self.url.rsplit("/", 1)[1]
        return f"{self.base}/_hosts/{host}/{organization}"

    # -- control API --------------------------------------------------

    def control(self, method: str, name: str, body: Any = None) -> Any:
        """Call ``/_emulator/{name}`` and return the decoded JSON answer."""
        import requests  # pylint: disable=import-outside-toplevel

        response = requests.request(method, f"{self.base}/_emulator/{name}", json=body, verify=self.verify,
                                    timeout=10)
        response.raise_for_status()
        return response.json()

    def health(self) -> dict[str, Any]:
        """``GET /_emulator/health``."""
        return self.control("GET", "health")

    def faults(self, faults: list[dict[str, Any]]) -> int:
        """Append faults; return how many are pending."""
        return int(self.control("POST", "faults", {"faults": faults})["count"])

    def pending_faults(self) -> list[dict[str, Any]]:
        """Faults not consumed yet."""
        return self.control("GET", "faults")["value"]

    def clear_faults(self) -> None:
        """Remove every pending fault."""
        self.control("DELETE", "faults")

    def requests(self) -> list[dict[str, Any]]:
        """The request log (oldest first)."""
        return self.control("GET", "requests")["value"]

    def reset_log(self) -> None:
        """Empty the request log."""
        self.control("DELETE", "requests")

    def configure(self, **changes: Any) -> dict[str, Any]:
        """Change runtime configuration (``iis_basic_auth``, ``server_version``, ``now``)."""
        return self.control("POST", "config", changes)

    def config(self) -> dict[str, Any]:
        """The runtime configuration."""
        return self.control("GET", "config")


def _read_info_line(process: subprocess.Popen, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise EmulatorStartError(f"the emulator printed nothing within {timeout} s")
        readable = select.select([process.stdout], [], [], remaining)[0]
        if readable:
            line = process.stdout.readline()
            if not line:
                raise EmulatorStartError(f"the emulator exited with status {process.wait()}")
            return json.loads(line)


def _fixture_file(state: str | os.PathLike[str] | dict[str, Any] | None) -> tuple[Path, list[Path]]:
    """The fixture path to pass to the CLI (a dict is written to a temp JSON file)."""
    if not isinstance(state, dict):
        return (Path(state) if state else DEFAULT_FIXTURE), []
    handle = tempfile.NamedTemporaryFile("w", suffix=".json", prefix="azdo-emulator-", delete=False,
                                         encoding="utf-8")
    with handle:
        json.dump(state, handle, default=str)
    return Path(handle.name), [Path(handle.name)]


def start_emulator(
    mode: str = "hosted",
    server_version: str | None = None,
    state: str | os.PathLike[str] | dict[str, Any] | None = None,
    tls: bool = False,
    cert_dir: str | os.PathLike[str] | None = None,
    timeout: float = 20.0,
    extra_args: list[str] | None = None,
) -> Emulator:
    """Start ``python -m tests.emulator`` in a subprocess and wait for its start-up line.

    ``state`` is a fixture path, a fixture dict (written to a temp file) or
    None (the default fixture).
    """
    fixture_path, temp_files = _fixture_file(state)
    fixture = load_fixture_data(fixture_path)

    command = [sys.executable, "-m", "tests.emulator", "--port", "0", "--mode", mode,
               "--state", str(fixture_path), "--watch-stdin"]
    command += ["--server-version", str(server_version)] if server_version else []
    command += ["--tls"] if tls else []
    command += ["--cert-dir", str(cert_dir)] if cert_dir else []
    command += list(extra_args or [])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    process = subprocess.Popen(  # pylint: disable=consider-using-with  # lives until stop()
        command, cwd=str(REPO_ROOT), env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        info = _read_info_line(process, timeout)
    except (EmulatorStartError, ValueError):
        process.kill()
        process.wait()
        for path in temp_files:
            path.unlink(missing_ok=True)
        raise
    return Emulator(process, info, fixture, fixture_path, temp_files)
