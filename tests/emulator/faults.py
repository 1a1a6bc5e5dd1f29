"""Fault injection: a queue of faults matched against incoming requests.

A fault is a dict (see the control API, ``POST /_emulator/faults``)::

    {"path": "<regex searched in the request path>", "method": "GET",
     "status": 429, "retry_after": "2", "count": 1, "delay": 0.5,
     "drop": false, "malformed_json": false, "html": false,
     "body": "...", "headers": {"X-Custom": "1"}}

Faults are tried in the order they were added; the first that matches is
used and its ``count`` decremented (``-1`` = forever). A fault with only a
``delay`` sleeps and then lets the request through.
"""

from __future__ import annotations

import email.utils
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from .wire import (JSON_TYPE, Response, dropped, gateway_page, html_response, json_response, signin_page,
                   vss_error)


class FaultError(ValueError):
    """A fault specification that does not make sense."""


@dataclass
class Fault:
    """One fault specification."""

    path: re.Pattern[str]
    method: str | None = None
    status: int | None = None
    retry_after: str | None = None
    count: int = 1
    delay: float = 0.0
    drop: bool = False
    malformed_json: bool = False
    html: bool = False
    body: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def path_text(self) -> str:
        """The path regex as given."""
        return str(getattr(self.path, "pattern", self.path))

    @property
    def answers(self) -> bool:
        """True when the fault produces its own response (not only a delay)."""
        return bool(self.drop or self.malformed_json or self.html or self.status or self.body is not None)

    def describe(self) -> dict[str, Any]:
        """JSON form (for ``GET /_emulator/faults``)."""
        return {
            "path": self.path_text, "method": self.method, "status": self.status,
            "retry_after": self.retry_after, "count": self.count, "delay": self.delay,
            "drop": self.drop, "malformed_json": self.malformed_json, "html": self.html,
            "body": self.body, "headers": dict(self.headers),
        }


def parse_fault(spec: dict[str, Any]) -> Fault:
    """Validate one fault dict."""
    if not isinstance(spec, dict):
        raise FaultError("each fault must be an object")
    try:
        pattern = re.compile(str(spec.get("path", ".*")))
    except re.error as exc:
        raise FaultError(f"bad path regex: {exc}") from exc
    status = spec.get("status")
    if status is not None:
        status = int(status)
        if not 100 <= status <= 599:
            raise FaultError(f"bad status {status}")
    retry_after = spec.get("retry_after")
    count = int(spec.get("count", 1))
    if count == 0 or count < -1:
        raise FaultError("count must be a positive number or -1")
    headers = spec.get("headers") or {}
    if not isinstance(headers, dict):
        raise FaultError("headers must be an object")
    body = spec.get("body")
    return Fault(
        path=pattern,
        method=str(spec["method"]).upper() if spec.get("method") else None,
        status=status,
        retry_after=None if retry_after is None else str(retry_after),
        count=count,
        delay=float(spec.get("delay") or 0),
        drop=bool(spec.get("drop", False)),
        malformed_json=bool(spec.get("malformed_json", False)),
        html=bool(spec.get("html", False)),
        body=None if body is None else (body if isinstance(body, str) else json.dumps(body)),
        headers={str(k): str(v) for k, v in headers.items()},
    )


class FaultQueue:
    """Thread-safe ordered list of pending faults."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, specs: list[dict[str, Any]]) -> int:
        """Validate and append faults; return how many are pending."""
        parsed = [parse_fault(spec) for spec in specs]
        with self._lock:
            self._faults.extend(parsed)
            return len(self._faults)

    def clear(self) -> None:
        """Drop every pending fault."""
        with self._lock:
            self._faults.clear()

    def pending(self) -> list[dict[str, Any]]:
        """The pending faults as dicts."""
        with self._lock:
            return [fault.describe() for fault in self._faults]

    def take(self, method: str, path: str) -> Fault | None:
        """Consume and return the first fault matching this request, if any."""
        with self._lock:
            for index, fault in enumerate(self._faults):
                if fault.method and fault.method != method:
                    continue
                if not fault.path.search(path):
                    continue
                if fault.count > 0:
                    fault.count -= 1
                    if fault.count == 0:
                        del self._faults[index]
                return fault
        return None


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def fault_response(fault: Fault, base: str, activity_id: str) -> Response:
    """Build the response a fault asks for (the caller has already slept ``fault.delay``)."""
    if fault.drop:
        return dropped()
    status = fault.status or 200
    if fault.malformed_json:
        body = '{"count":2,"value":[{"id":"7e7fc8db-1c3a-48f3-a126-21fe'
        response = Response(status, body if fault.body is None else fault.body, JSON_TYPE)
    elif fault.html:
        response = html_response(status, fault.body or signin_page(base, base.split("://", 1)[-1]))
    elif fault.body is not None:
        content_type = JSON_TYPE
        try:
            json.loads(fault.body)
        except ValueError:
            content_type = "text/plain; charset=utf-8"
        response = Response(status, fault.body, content_type)
    else:
        response = _status_response(status, activity_id)
    if fault.retry_after is not None:
        response.set_header("Retry-After", fault.retry_after)
    for name, value in fault.headers.items():
        response.set_header(name, value)
    return response


def _status_response(status: int, activity_id: str) -> Response:
    """The default body of a fault that only gives a status."""
    if status == 429:
        message = (
            "Request was blocked due to exceeding usage of resource 'Core' in namespace 'User'. "
            "For more information on why your request was blocked, see the topic \"Rate limits\" "
            "in the Azure DevOps documentation."
        )
        response = vss_error(429, message, "RequestBlockedException",
                             "Microsoft.TeamFoundation.Framework.Server.RequestBlockedException, "
                             "Microsoft.TeamFoundation.Framework.Server")
        reset = int(time.time()) + 60
        response.headers.extend([
            ("X-RateLimit-Resource", "Core"),
            ("X-RateLimit-Delay", "10"),
            ("X-RateLimit-Limit", "200"),
            ("X-RateLimit-Remaining", "0"),
            ("X-RateLimit-Reset", str(reset)),
        ])
        return response
    if status in (502, 504):
        response = html_response(status, gateway_page(status, _reason(status)), ado=False)
    elif status == 503:
        response = vss_error(503, "The service is temporarily unavailable. Please try again later.",
                             "ServiceUnavailableException",
                             "Microsoft.TeamFoundation.Framework.Server.ServiceUnavailableException, "
                             "Microsoft.TeamFoundation.Framework.Server")
    elif status >= 500:
        response = vss_error(status, f"TF400898: An Internal Error Occurred. Activity Id: {activity_id}.",
                             "Exception", "System.Exception, mscorlib", event_id=0)
    elif status >= 400:
        response = vss_error(status, f"{status} {_reason(status)}", "VssServiceException",
                             "Microsoft.VisualStudio.Services.WebApi.VssServiceException, "
                             "Microsoft.VisualStudio.Services.WebApi")
    else:
        response = json_response({}, status)
    return response


def http_date(seconds_from_now: float) -> str:
    """An HTTP-date ``seconds_from_now`` in the future (for ``Retry-After``)."""
    return email.utils.formatdate(time.time() + seconds_from_now, usegmt=True)
