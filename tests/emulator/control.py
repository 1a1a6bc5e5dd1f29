"""The emulator's own control API under ``/_emulator/`` (no authentication, never logged).

=======  ==========================  =============================================
method   path                        effect
=======  ==========================  =============================================
GET      /_emulator/health           ``{"ok": true}``
POST     /_emulator/faults           body ``{"faults": [...]}``: append faults
GET      /_emulator/faults           pending faults
DELETE   /_emulator/faults           clear faults
GET      /_emulator/requests         request log ``{"count", "value"}``
DELETE   /_emulator/requests         reset the request log
GET      /_emulator/config           runtime configuration
POST     /_emulator/config           change it, e.g. ``{"iis_basic_auth": true}``
=======  ==========================  =============================================

Runtime configuration keys: ``iis_basic_auth`` (bool, onprem: IIS Basic
authentication enabled on the site), ``latency`` (seconds every API answer is
delayed, to measure concurrency), ``server_version`` (``2019``, ``2020``,
``2022``, ``2022.1``, ``cloud``), ``now`` (ISO date-time used instead of the
clock for credential expiry, or null).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Callable

from .apiversion import SERVER_VERSIONS
from .faults import FaultError
from .state import parse_datetime
from .wire import Response, json_response

if TYPE_CHECKING:  # pragma: no cover
    from .server import EmulatorApp

PREFIX = "/_emulator/"


def _error(status: int, message: str) -> Response:
    return json_response({"error": message}, status)


def _body(raw: bytes) -> Any:
    if not raw:
        return {}
    return json.loads(raw.decode("utf-8"))


def validate_config(changes: dict[str, Any]) -> dict[str, Any]:
    """Check configuration changes; raise ValueError with a readable message."""
    cleaned: dict[str, Any] = {}
    for key, value in changes.items():
        if key == "iis_basic_auth":
            if not isinstance(value, bool):
                raise ValueError("iis_basic_auth must be true or false")
            cleaned[key] = value
        elif key == "server_version":
            value = str(value)
            if value not in SERVER_VERSIONS:
                raise ValueError(f"server_version must be one of {', '.join(SERVER_VERSIONS)}")
            cleaned[key] = value
        elif key == "latency":
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value <= 5:
                raise ValueError("latency must be a number of seconds between 0 and 5")
            cleaned[key] = value
        elif key == "now":
            if value is not None:
                parse_datetime(value)  # raises ValueError when malformed
            cleaned[key] = value
        else:
            raise ValueError(f"unknown configuration key {key!r}")
    return cleaned


def _health(app: "EmulatorApp", _payload: Any) -> Response:
    return json_response({"ok": True, "mode": app.mode, "server_version": app.server_version})


def _list_faults(app: "EmulatorApp", _payload: Any) -> Response:
    pending = app.faults.pending()
    return json_response({"count": len(pending), "value": pending})


def _clear_faults(app: "EmulatorApp", _payload: Any) -> Response:
    app.faults.clear()
    return json_response({"count": 0})


def _add_faults(app: "EmulatorApp", payload: Any) -> Response:
    specs = payload.get("faults") if isinstance(payload, dict) else payload
    if not isinstance(specs, list):
        return _error(400, "expected {\"faults\": [...]}")
    try:
        count = app.faults.add(specs)
    except (FaultError, ValueError, TypeError) as exc:
        return _error(400, f"bad fault: {exc}")
    return json_response({"count": count})


def _list_requests(app: "EmulatorApp", _payload: Any) -> Response:
    entries = app.log.entries()
    return json_response({"count": len(entries), "value": entries})


def _clear_requests(app: "EmulatorApp", _payload: Any) -> Response:
    app.log.clear()
    return json_response({"count": 0})


def _get_config(app: "EmulatorApp", _payload: Any) -> Response:
    return json_response(dict(app.config))


def _set_config(app: "EmulatorApp", payload: Any) -> Response:
    if not isinstance(payload, dict):
        return _error(400, "expected an object")
    try:
        app.configure(**validate_config(payload))
    except ValueError as exc:
        return _error(400, str(exc))
    return json_response(dict(app.config))


_ENDPOINTS: dict[tuple[str, str], Callable[["EmulatorApp", Any], Response]] = {
    ("GET", "health"): _health,
    ("GET", "faults"): _list_faults,
    ("POST", "faults"): _add_faults,
    ("DELETE", "faults"): _clear_faults,
    ("GET", "requests"): _list_requests,
    ("DELETE", "requests"): _clear_requests,
    ("GET", "config"): _get_config,
    ("POST", "config"): _set_config,
    ("PUT", "config"): _set_config,
    ("PATCH", "config"): _set_config,
}


def handle(app: "EmulatorApp", method: str, path: str, body: bytes) -> Response:
    """Answer a control API request."""
    action = path[len(PREFIX):].strip("/").lower()
    endpoint = _ENDPOINTS.get((method, action))
    if endpoint is None:
        return _error(404, f"no control endpoint {method} {path}")
    try:
        payload = _body(body) if method in ("POST", "PUT", "PATCH") else {}
    except ValueError:
        return _error(400, "body is not valid JSON")
    return endpoint(app, payload)
