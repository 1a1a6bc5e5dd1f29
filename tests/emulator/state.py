"""Emulator state: fixture loading (YAML or JSON) and lookups.

A fixture describes one organisation (hosted mode) and its on-premises
counterpart (collections), the projects, the identities and the credentials
(PATs and bearer access tokens). Credentials are keyed by a stable name so
tests can pick one ("good", "expired", ...) and read its secret from the file.

Accepted credential layouts (all merged into one map):

* ``credentials: {key: {type: pat|access_token, token, owner, ...}}``
* ``pats: [...]`` or ``pats: {key: {...}}`` (type pat)
* ``access_tokens: [...]`` or ``access_tokens: {key: {...}}`` (type access_token)

List entries without a ``key`` get ``pat1``, ``pat2``, ... / ``token1``, ...
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DEFAULT_FIXTURE = Path(__file__).resolve().parent / "fixtures" / "default.yml"

_UUID_NAMESPACE = uuid.UUID("6f1c1a52-3b5e-4d59-9a55-5c0e8d1b7a10")


def stable_uuid(*parts: str) -> str:
    """Return a UUID derived from ``parts`` (same input, same UUID)."""
    return str(uuid.uuid5(_UUID_NAMESPACE, "/".join(parts)))


def parse_datetime(value: Any) -> dt.datetime | None:
    """Parse an ISO date or date-time (str, date or datetime) into an aware UTC datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        result = value
    elif isinstance(value, dt.date):
        result = dt.datetime(value.year, value.month, value.day)
    else:
        text = str(value).strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        result = dt.datetime.fromisoformat(text)
    if result.tzinfo is None:
        result = result.replace(tzinfo=dt.timezone.utc)
    return result.astimezone(dt.timezone.utc)


def format_datetime(value: dt.datetime | None) -> str | None:
    """Format a datetime the way the service does (``2024-01-01T00:00:00Z``)."""
    if value is None:
        return None
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ").replace(".000000Z", "Z")


@dataclass
class Project:
    """A team project."""

    name: str
    id: str
    description: str = ""
    visibility: str = "private"
    revision: int = 1
    process: str = "Agile"


@dataclass
class Collection:
    """A project collection (onprem) or the organisation itself (hosted)."""

    name: str
    id: str
    projects: list[Project] = field(default_factory=list)

    def project(self, name_or_id: str) -> Project | None:
        """Find a project by name (case-insensitive) or id."""
        wanted = name_or_id.strip().lower()
        for project in self.projects:
            if project.id.lower() == wanted or project.name.lower() == wanted:
                return project
        return None


@dataclass
class Identity:
    """A user or service principal known to the service."""

    key: str
    id: str
    kind: str = "user"  # user | service_principal
    display_name: str = ""
    unique_name: str = ""
    app_id: str | None = None
    domain: str | None = None
    active: bool = True
    # True, False, or a list of collection / organisation names.
    collection_member: bool | list[str] = True
    conditional_access_blocked: bool = False
    service_principal_not_in_org: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_service_principal(self) -> bool:
        """True for service principals (application identities)."""
        return self.kind == "service_principal"

    def member_of(self, collection_name: str) -> bool:
        """True when the identity is a member of the named collection / organisation."""
        if isinstance(self.collection_member, list):
            return collection_name.lower() in {name.lower() for name in self.collection_member}
        return bool(self.collection_member)


@dataclass
class Credential:
    """A PAT or a bearer access token."""

    key: str
    type: str  # pat | access_token
    token: str
    owner: str
    display_name: str = ""
    scopes: list[str] | None = None  # None = all scopes (access tokens)
    valid_from: dt.datetime | None = None
    valid_to: dt.datetime | None = None
    revoked: bool = False
    authorization_id: str = ""
    organizations: list[str] | None = None  # hosted: organisations the PAT is valid for
    extra: dict[str, Any] = field(default_factory=dict)

    def is_expired(self, now: dt.datetime) -> bool:
        """True when ``valid_to`` is in the past."""
        return self.valid_to is not None and self.valid_to <= now

    def is_usable(self, now: dt.datetime) -> bool:
        """True when neither revoked, expired nor not yet valid."""
        if self.revoked or self.is_expired(now):
            return False
        return self.valid_from is None or self.valid_from <= now


def _scopes(value: Any) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [part for part in value.replace(",", " ").split() if part]
    return [str(part) for part in value]


def _as_entries(value: Any, prefix: str) -> list[tuple[str, dict[str, Any]]]:
    if not value:
        return []
    if isinstance(value, dict):
        return [(str(key), dict(entry or {})) for key, entry in value.items()]
    entries = []
    for index, entry in enumerate(value, start=1):
        entry = dict(entry)
        entries.append((str(entry.pop("key", f"{prefix}{index}")), entry))
    return entries


class State:
    """Everything the emulator knows; thread-safe for the few mutations areas make."""

    def __init__(self, data: dict[str, Any], source: str = "<dict>") -> None:
        self.source = source
        self.lock = threading.RLock()
        self.raw = data
        self.organization: str = str(data.get("organization") or "fabrikam")
        self.organization_id: str = str(
            data.get("organization_id") or stable_uuid("org", self.organization.lower())
        )
        self.tenant_id: str = str(data.get("tenant_id") or stable_uuid("tenant", self.organization.lower()))
        self.hosted_deployment_id: str = str(data.get("hosted_deployment_id") or stable_uuid("hosted-deployment"))
        self.onprem_deployment_id: str = str(data.get("onprem_deployment_id") or stable_uuid("onprem-deployment"))
        self.onprem_domain: str = str(data.get("onprem_domain") or self.organization.upper())
        self.virtual_directory: str = str(data.get("virtual_directory", "tfs") or "").strip("/")

        default_projects = [self._project(p) for p in data.get("projects") or []]
        self.org_collection = Collection(self.organization, self.organization_id, list(default_projects))
        self.collections: dict[str, Collection] = {}
        for entry in data.get("collections") or ["DefaultCollection"]:
            if isinstance(entry, str):
                entry = {"name": entry}
            name = str(entry["name"])
            projects = entry.get("projects")
            self.collections[name.lower()] = Collection(
                name=name,
                id=str(entry.get("id") or stable_uuid("collection", name.lower())),
                projects=[self._project(p) for p in projects] if projects is not None else list(default_projects),
            )

        self.identities: dict[str, Identity] = {}
        for key, entry in _as_entries(data.get("identities"), "identity"):
            self.identities[key] = self._identity(key, entry)

        self.credentials: dict[str, Credential] = {}
        for key, entry in _as_entries(data.get("credentials"), "credential"):
            self.add_credential(self._credential(key, entry, entry.get("type", "pat")))
        for key, entry in _as_entries(data.get("pats"), "pat"):
            self.add_credential(self._credential(key, entry, "pat"))
        for key, entry in _as_entries(data.get("access_tokens"), "token"):
            self.add_credential(self._credential(key, entry, "access_token"))

    # -- construction -------------------------------------------------

    @staticmethod
    def _project(entry: Any) -> Project:
        if isinstance(entry, str):
            entry = {"name": entry}
        name = str(entry["name"])
        return Project(
            name=name,
            id=str(entry.get("id") or stable_uuid("project", name.lower())),
            description=str(entry.get("description") or ""),
            visibility=str(entry.get("visibility") or "private"),
            revision=int(entry.get("revision") or 1),
            process=str(entry.get("process") or "Agile"),
        )

    @staticmethod
    def _identity(key: str, entry: dict[str, Any]) -> Identity:
        known = {
            "id", "kind", "display_name", "unique_name", "app_id", "domain", "active",
            "collection_member", "conditional_access_blocked", "service_principal_not_in_org",
        }
        kind = str(entry.get("kind") or "user")
        member = entry.get("collection_member", True)
        return Identity(
            key=key,
            id=str(entry.get("id") or stable_uuid("identity", key)),
            kind=kind,
            display_name=str(entry.get("display_name") or key),
            unique_name=str(entry.get("unique_name") or entry.get("display_name") or key),
            app_id=str(entry["app_id"]) if entry.get("app_id") else (
                stable_uuid("app", key) if kind == "service_principal" else None
            ),
            domain=str(entry["domain"]) if entry.get("domain") else None,
            active=bool(entry.get("active", True)),
            collection_member=[str(n) for n in member] if isinstance(member, list) else bool(member),
            conditional_access_blocked=bool(entry.get("conditional_access_blocked", False)),
            service_principal_not_in_org=bool(entry.get("service_principal_not_in_org", False)),
            extra={k: v for k, v in entry.items() if k not in known},
        )

    def _credential(self, key: str, entry: dict[str, Any], ctype: str) -> Credential:
        known = {
            "type", "token", "owner", "display_name", "scopes", "scope", "valid_from", "valid_to",
            "revoked", "authorization_id", "organizations",
        }
        if ctype not in ("pat", "access_token"):
            raise ValueError(f"credential {key}: unknown type {ctype!r}")
        if not entry.get("token"):
            raise ValueError(f"credential {key}: missing token")
        owner = str(entry.get("owner") or "")
        if owner not in self.identities:
            raise ValueError(f"credential {key}: unknown owner identity {owner!r}")
        scopes = _scopes(entry.get("scopes", entry.get("scope")))
        if ctype == "pat" and scopes is None:
            scopes = ["app_token"]
        orgs = entry.get("organizations")
        return Credential(
            key=key,
            type=ctype,
            token=str(entry["token"]),
            owner=owner,
            display_name=str(entry.get("display_name") or key),
            scopes=scopes,
            valid_from=parse_datetime(entry.get("valid_from")),
            valid_to=parse_datetime(entry.get("valid_to")),
            revoked=bool(entry.get("revoked", False)),
            authorization_id=str(entry.get("authorization_id") or stable_uuid("authorization", key)),
            organizations=[str(o) for o in orgs] if orgs else None,
            extra={k: v for k, v in entry.items() if k not in known},
        )

    # -- mutations ----------------------------------------------------

    def add_credential(self, credential: Credential) -> None:
        """Add or replace a credential (areas that mint tokens use this)."""
        with self.lock:
            self.credentials[credential.key] = credential

    def remove_credential(self, key: str) -> Credential | None:
        """Remove a credential by key."""
        with self.lock:
            return self.credentials.pop(key, None)

    # -- lookups ------------------------------------------------------

    def credential_by_secret(self, secret: str, ctype: str) -> Credential | None:
        """Find a credential of ``ctype`` whose token equals ``secret``."""
        with self.lock:
            for credential in self.credentials.values():
                if credential.type == ctype and credential.token == secret:
                    return credential
        return None

    def identity(self, key: str) -> Identity | None:
        """Identity by fixture key."""
        return self.identities.get(key)

    def identity_by_id(self, identity_id: str) -> Identity | None:
        """Identity by id (case-insensitive)."""
        wanted = identity_id.strip().lower()
        for ident in self.identities.values():
            if ident.id.lower() == wanted:
                return ident
        return None

    def collection(self, name: str) -> Collection | None:
        """On-premises collection by name (case-insensitive)."""
        return self.collections.get(name.lower())

    def first_collection(self) -> Collection:
        """The first collection listed in the fixture."""
        return next(iter(self.collections.values()))


def load_fixture_data(path: str | Path | None = None) -> dict[str, Any]:
    """Read a fixture file (YAML or JSON) into a dict."""
    fixture = Path(path) if path else DEFAULT_FIXTURE
    text = fixture.read_text(encoding="utf-8-sig")
    if fixture.suffix.lower() == ".json":
        data = json.loads(text)
    else:
        data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ValueError(f"{fixture}: the fixture must be a mapping")
    return data


def load_state(path: str | Path | None = None) -> State:
    """Load a fixture file into a :class:`State`."""
    fixture = Path(path) if path else DEFAULT_FIXTURE
    return State(load_fixture_data(fixture), source=str(fixture))
