"""``api-version`` handling: where it is read from, parsing, and the range check.

The generated clients send the version only in the ``Accept`` header
(``application/json;api-version=7.1-preview.1``); scripts put it in the query
string. The query string wins when both are present.

Range per server version (major.minor is compared, previews of the newest
released version are fine):

====== ===== ============================================
server max   notes
====== ===== ============================================
2019   5.0   Azure DevOps Server 2019
2020   6.0   Azure DevOps Server 2020
2022   7.0   Azure DevOps Server 2022
2022.1 7.1   Azure DevOps Server 2022.1 and later
cloud  7.1   also accepts ``7.2-preview[.N]``
====== ===== ============================================
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .wire import Response, vss_error

SERVER_VERSIONS: dict[str, tuple[int, int]] = {
    "2019": (5, 0),
    "2020": (6, 0),
    "2022": (7, 0),
    "2022.1": (7, 1),
    "cloud": (7, 1),
}

# Versions that exist only as previews on a server version.
PREVIEW_ONLY: dict[str, tuple[int, int]] = {"cloud": (7, 2)}

_VERSION_RE = re.compile(r"^\s*(\d+)\.(\d+)(?:-(preview)(?:\.(\d+))?)?\s*$", re.IGNORECASE)
_ACCEPT_RE = re.compile(r"api-version\s*=\s*([^;,\s]+)", re.IGNORECASE)

_WEBAPI = "Microsoft.VisualStudio.Services.WebApi"


@dataclass(frozen=True)
class ApiVersion:
    """A parsed ``api-version`` value."""

    major: int
    minor: int
    preview: bool
    resource_version: int | None
    text: str

    @property
    def number(self) -> tuple[int, int]:
        """(major, minor)."""
        return (self.major, self.minor)

    @property
    def short(self) -> str:
        """``major.minor``."""
        return f"{self.major}.{self.minor}"


def parse(text: str) -> ApiVersion:
    """Parse ``7.1``, ``7.1-preview``, ``7.1-preview.1``; raise ValueError otherwise."""
    match = _VERSION_RE.match(text)
    if not match:
        raise ValueError(text)
    major, minor, preview, resource = match.groups()
    return ApiVersion(int(major), int(minor), preview is not None, int(resource) if resource else None, text.strip())


def requested_version(query: dict[str, list[str]], accept: str | None) -> str | None:
    """The raw api-version of a request (query string first, then ``Accept``)."""
    for name, values in query.items():
        if name.lower() == "api-version" and values:
            return values[0]
    if accept:
        match = _ACCEPT_RE.search(accept)
        if match:
            return match.group(1)
    return None


def max_version(server_version: str) -> tuple[int, int]:
    """Newest released REST API version of a server version."""
    return SERVER_VERSIONS[server_version]


def _missing(method: str, required: bool) -> Response | None:
    if method in ("GET", "HEAD", "OPTIONS") or not required:
        return None
    message = (
        f"No api-version was supplied for the {method} request. The version must be supplied either as "
        "part of the Accept header (e.g. \"application/json; api-version=1.0\") or as a query parameter "
        "(e.g. '?api-version=1.0')."
    )
    return vss_error(400, message, "VssVersionNotSpecifiedException",
                     f"{_WEBAPI}.VssVersionNotSpecifiedException, {_WEBAPI}")


def check(text: str | None, server_version: str, method: str, required: bool = True) -> Response | None:
    """Return an error response when the version is missing, malformed or out of range; else None."""
    if text is None or text.strip() == "":
        return _missing(method, required)
    try:
        version = parse(text)
    except ValueError:
        message = (
            f"The api-version '{text}' is not in a valid format. Use the format "
            "'{major}.{minor}[-preview[.{resourceVersion}]]', for example '7.1-preview.1'."
        )
        return vss_error(400, message, "VssInvalidApiVersionException",
                         f"{_WEBAPI}.VssInvalidApiVersionException, {_WEBAPI}")
    newest = max_version(server_version)
    preview_only = PREVIEW_ONLY.get(server_version)
    if preview_only and version.number == preview_only:
        if version.preview:
            return None
        message = (
            f"The requested version \"{version.short}\" of the resource is under preview. The -preview flag must "
            f"be supplied in the api-version for such requests. For example: \"{version.short}-preview\""
        )
        return vss_error(400, message, "VssInvalidPreviewVersionException",
                         f"{_WEBAPI}.VssInvalidPreviewVersionException, {_WEBAPI}")
    if version.number > newest:
        message = (
            f"The requested REST API version of {version.short} is out of range for this server. "
            f"The latest REST API version this server supports is {newest[0]}.{newest[1]}."
        )
        return vss_error(400, message, "VssVersionOutOfRangeException",
                         f"{_WEBAPI}.VssVersionOutOfRangeException, {_WEBAPI}")
    return None
