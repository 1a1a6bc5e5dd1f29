"""The request log: what reached the emulator, without any secret.

Entries hold the method, path, query (first value of each parameter, values
of parameters that can carry secrets replaced by ``***``), status, how the
caller authenticated (``pat``, ``bearer``, ``basic-no-colon``, ``anonymous``,
``other``), the fixture key of the identity, the requested api-version and
whether a fault answered. The ``Authorization`` header and request bodies are
never stored.
"""

from __future__ import annotations

import threading
import time
from typing import Any

# Query parameters whose values could be secrets.
_SENSITIVE = {
    "access_token", "assertion", "client_assertion", "client_secret", "code", "password", "refresh_token",
    "token", "pat", "secret", "sig", "signature",
}


def _clean_query(query: dict[str, list[str]]) -> dict[str, str]:
    cleaned = {}
    for name, values in query.items():
        value = values[0] if values else ""
        cleaned[name] = "***" if name.lower() in _SENSITIVE else value
    return cleaned


class RequestLog:
    """Thread-safe list of request records."""

    def __init__(self, limit: int = 10000) -> None:
        self._lock = threading.Lock()
        self._entries: list[dict[str, Any]] = []
        self._limit = limit

    def record(self, entry: dict[str, Any]) -> None:
        """Append one record (oldest records are dropped past the limit).

        ``entry`` keys: method, path, query (the parsed query string), status,
        auth, identity, api_version, fault, host.
        """
        cleaned = {
            "method": entry.get("method"),
            "path": entry.get("path"),
            "query": _clean_query(entry.get("query") or {}),
            "status": entry.get("status"),
            "auth": entry.get("auth"),
            "identity": entry.get("identity"),
            "api_version": entry.get("api_version"),
            "fault": bool(entry.get("fault")),
            "host": entry.get("host"),
            "time": round(time.time(), 3),
        }
        with self._lock:
            self._entries.append(cleaned)
            if len(self._entries) > self._limit:
                del self._entries[: len(self._entries) - self._limit]

    def entries(self) -> list[dict[str, Any]]:
        """A copy of every record, oldest first."""
        with self._lock:
            return [dict(entry) for entry in self._entries]

    def clear(self) -> None:
        """Forget every record."""
        with self._lock:
            self._entries.clear()
