"""Response objects and the wire formats the service uses.

* :class:`Response` - status, ordered header list (repeatable headers such as
  ``WWW-Authenticate``), body bytes, and whether the Azure DevOps application
  headers (``X-TFS-*``/``X-VSS-*``/``ActivityId``) are added by the server.
* :func:`vss_error` - the ``WrappedException`` JSON error body.
* :func:`wrapped` - lists are sent as ``{"count": n, "value": [...]}`` (the
  REST specs say bare arrays; the live service wraps them).
* HTML pages: the hosted sign-in page (203) and the IIS 401 page.
"""

from __future__ import annotations

import html
import json
import urllib.parse
from typing import Any, Iterable

JSON_TYPE = "application/json; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"


class Response:
    """An HTTP response produced by the emulator."""

    def __init__(
        self,
        status: int,
        body: bytes | str = b"",
        content_type: str | None = None,
        headers: Iterable[tuple[str, str]] | None = None,
        ado: bool = True,
    ) -> None:
        self.status = status
        self.body = body.encode("utf-8") if isinstance(body, str) else body
        self.headers: list[tuple[str, str]] = list(headers or [])
        if content_type:
            self.headers.insert(0, ("Content-Type", content_type))
        self.ado = ado
        self.drop = False

    def header(self, name: str) -> str | None:
        """First value of a header (case-insensitive), or None."""
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None

    def add_header(self, name: str, value: str) -> "Response":
        """Append a header and return self."""
        self.headers.append((name, value))
        return self

    def set_header(self, name: str, value: str) -> "Response":
        """Replace every value of a header and return self."""
        lowered = name.lower()
        self.headers = [(k, v) for k, v in self.headers if k.lower() != lowered]
        self.headers.append((name, value))
        return self


def dropped() -> Response:
    """A response that closes the connection without answering."""
    response = Response(0, ado=False)
    response.drop = True
    return response


def json_response(obj: Any, status: int = 200, headers: Iterable[tuple[str, str]] | None = None) -> Response:
    """A JSON response."""
    body = json.dumps(obj, separators=(",", ":")).encode("utf-8")
    return Response(status, body, JSON_TYPE, headers)


def wrapped(items: list[Any], status: int = 200, headers: Iterable[tuple[str, str]] | None = None) -> Response:
    """A list response, wrapped the way the live service sends it."""
    return json_response({"count": len(items), "value": items}, status, headers)


def empty(status: int, headers: Iterable[tuple[str, str]] | None = None) -> Response:
    """A response without a body (the service's 401 for bad credentials)."""
    return Response(status, b"", None, headers)


def error_body(message: str, type_key: str, type_name: str | None = None, event_id: int = 3000) -> dict[str, Any]:
    """The ``WrappedException`` JSON object."""
    framework = "Microsoft.TeamFoundation.Framework.Server"
    return {
        "$id": "1",
        "innerException": None,
        "message": message,
        "typeName": type_name or f"{framework}.{type_key}, {framework}",
        "typeKey": type_key,
        "errorCode": 0,
        "eventId": event_id,
    }


def service_error_header(message: str) -> tuple[str, str]:
    """``X-TFS-ServiceError``: the URL-encoded error message."""
    return ("X-TFS-ServiceError", urllib.parse.quote(message, safe=""))


def vss_error(
    status: int,
    message: str,
    type_key: str,
    type_name: str | None = None,
    service_error: bool = False,
    event_id: int = 3000,
    headers: Iterable[tuple[str, str]] | None = None,
) -> Response:
    """A JSON error response in the service's format."""
    response = json_response(error_body(message, type_key, type_name, event_id), status, headers)
    if service_error:
        response.add_header(*service_error_header(message))
    return response


def not_found(message: str, type_key: str = "VssResourceNotFoundException", type_name: str | None = None) -> Response:
    """404 with a VSS error body."""
    return vss_error(
        404, message, type_key,
        type_name or f"Microsoft.VisualStudio.Services.WebApi.{type_key}, Microsoft.VisualStudio.Services.WebApi",
    )


def bad_request(message: str, type_key: str = "ArgumentException", type_name: str | None = None) -> Response:
    """400 with a VSS error body."""
    return vss_error(400, message, type_key, type_name or "System.ArgumentException, mscorlib")


def html_response(status: int, page: str, headers: Iterable[tuple[str, str]] | None = None,
                  ado: bool = True) -> Response:
    """An HTML response."""
    return Response(status, page, HTML_TYPE, headers, ado=ado)


def signin_page(base: str, realm: str) -> str:
    """The small HTML sign-in page the hosted service sends to anonymous callers (with 203)."""
    target = html.escape(f"{base}/_signin?realm={urllib.parse.quote(realm, safe='')}", quote=True)
    return (
        "<!DOCTYPE html>\n<html lang=\"en-US\">\n<head>\n"
        "<meta charset=\"utf-8\">\n<title>Azure DevOps Services | Sign In</title>\n"
        f"<meta http-equiv=\"refresh\" content=\"0; url={target}\">\n</head>\n<body>\n"
        "<h1>Sign in to Azure DevOps</h1>\n"
        f"<p>You are not signed in. <a href=\"{target}\">Continue to sign in</a>.</p>\n"
        "</body>\n</html>\n"
    )


IIS_401_PAGE = (
    "<!DOCTYPE html>\r\n"
    "<html>\r\n<head>\r\n"
    "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=iso-8859-1\"/>\r\n"
    "<title>401 - Unauthorized: Access is denied due to invalid credentials.</title>\r\n"
    "</head>\r\n<body>\r\n<div id=\"header\"><h1>Server Error</h1></div>\r\n"
    "<div id=\"content\">\r\n <div class=\"content-container\"><fieldset>\r\n"
    "  <h2>401 - Unauthorized: Access is denied due to invalid credentials.</h2>\r\n"
    "  <h3>You do not have permission to view this directory or page using the credentials "
    "that you supplied.</h3>\r\n </fieldset></div>\r\n</div>\r\n</body>\r\n</html>\r\n"
)


def gateway_page(status: int, reason: str) -> str:
    """A minimal front-door style error page (502/504 from the edge, not from the application)."""
    return (
        f"<!DOCTYPE html>\n<html><head><title>{status} {html.escape(reason)}</title></head>\n"
        f"<body><h1>{status} {html.escape(reason)}</h1>"
        "<p>The service is temporarily unavailable. Please try again later.</p></body></html>\n"
    )
