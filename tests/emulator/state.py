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

        # Collection groups and memberships (Graph / Identities areas); see the end of this module.
        self._init_directories(data)

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

    # -- collection groups and memberships (Graph / Identities areas) --------

    def _init_directories(self, data: dict[str, Any]) -> None:
        """Build the groups of the organisation and of every collection from the fixture.

        Fixture keys (all optional): ``directory_users`` (identities without a
        credential; collection members only through a group), ``groups``
        (custom groups, or members for built-in ones), ``large_groups``
        (generated members), ``localized_collections`` (more onprem
        collections whose built-in groups carry translated names),
        ``organization_locale`` (language of the organisation's built-in
        group names) and ``graph_credentials`` (credentials, same layout as
        ``credentials``). Identities flagged as collection members that are
        in no group are made direct members of Project Collection Valid Users,
        so group membership and the TF400813 check agree from the start.
        """
        for entry in data.get("localized_collections") or []:
            if isinstance(entry, str):
                entry = {"name": entry}
            name = str(entry["name"])
            projects = entry.get("projects")
            self.collections.setdefault(name.lower(), Collection(
                name=name,
                id=str(entry.get("id") or stable_uuid("collection", name.lower())),
                projects=[self._project(p) for p in projects] if projects is not None
                else list(self.org_collection.projects),
            ))
        locales: dict[str, str] = {}
        for entry in data.get("localized_collections") or []:
            if isinstance(entry, dict):
                locales[str(entry["name"]).lower()] = str(entry.get("locale") or "en")

        derived: set[str] = set()
        for key, entry in _as_entries(data.get("directory_users"), "user"):
            entry = dict(entry)
            entry.setdefault("collection_member", [])
            identity = self._identity(key, entry)
            self.identities[key] = identity
            derived.add(identity.id)
        large = [dict(entry) for entry in data.get("large_groups") or []]
        for spec in large:
            spec["_identities"] = []
            size = int(spec.get("size") or spec.get("members") or 0)
            display = str(spec.get("display_name") or "Member {n}")
            unique = str(spec.get("unique_name") or "member{n:04d}@example.invalid")
            key_format = str(spec.get("key") or "member{n:04d}")
            for number in range(1, size + 1):
                key = key_format.format(n=number)
                identity = Identity(
                    key=key, id=stable_uuid("identity", key), display_name=display.format(n=number),
                    unique_name=unique.format(n=number), collection_member=[],
                )
                self.identities[key] = identity
                spec["_identities"].append(identity)
                derived.add(identity.id)
        for key, entry in _as_entries(data.get("graph_credentials"), "credential"):
            self.add_credential(self._credential(key, entry, entry.get("type", "pat")))

        self._identity_ids: dict[str, Identity] = {ident.id.lower(): ident for ident in self.identities.values()}
        self.directories: dict[str, Directory] = {}
        org_locale = str(data.get("organization_locale") or "en")
        targets = [(self.org_collection, org_locale, True)]
        targets += [(c, locales.get(c.name.lower(), "en"), False) for c in self.collections.values()]
        for collection, locale, hosted in targets:
            directory = Directory(collection, locale, deployment_id=self.hosted_deployment_id if hosted else None)
            directory.apply_fixture(data.get("groups") or [], large, self)
            for identity in self.identities.values():
                if identity.service_principal_not_in_org or identity.id in derived:
                    continue
                if identity.member_of(collection.name) and not directory.contains_identity(identity.id):
                    directory.add_member(directory.valid_users, identity.id)
            key = "org" if hosted else collection.name.lower()
            self.directories[key] = directory
            self.sync_collection_membership(collection)

    def directory_for(self, collection: Collection) -> "Directory":
        """Groups of a collection (onprem) or of the organisation (hosted)."""
        if collection is self.org_collection:
            return self.directories["org"]
        return self.directories[collection.name.lower()]

    def find_identity(self, identity_id: str) -> Identity | None:
        """Identity by id, through an index (the large generated groups make a scan slow)."""
        return self._identity_ids.get(str(identity_id).strip().lower())

    def identity_by_unique_name(self, name: str) -> Identity | None:
        """Identity by unique name (UPN / e-mail), case-insensitive."""
        wanted = name.strip().lower()
        for identity in self.identities.values():
            if identity.unique_name.lower() == wanted:
                return identity
        return None

    def sync_collection_membership(self, collection: Collection) -> list[str]:
        """Make the TF400813 flag of every identity follow its group memberships in ``collection``.

        An identity is a member of a collection when it is in any group of that
        collection. Returns the keys of the identities whose flag changed.
        """
        directory = self.directory_for(collection)
        known = [self.org_collection.name] + [c.name for c in self.collections.values()]
        changed = []
        with self.lock:
            inside = directory.identity_ids()
            for identity in self.identities.values():
                if identity.service_principal_not_in_org:
                    continue
                wanted = identity.id.lower() in inside
                if identity.member_of(collection.name) == wanted:
                    continue
                names = {n.lower(): n for n in known if identity.member_of(n)}
                if wanted:
                    names[collection.name.lower()] = collection.name
                else:
                    names.pop(collection.name.lower(), None)
                identity.collection_member = sorted(names.values())
                changed.append(identity.key)
        return changed


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


# -- collection groups and memberships --------------------------------------
#
# Every collection (onprem) and the organisation (hosted) has built-in groups.
# Security identifiers follow the service: ``S-1-9-1551374245-`` + four numbers
# of the collection, then ``-0-0-0-0-<rid>`` for the well-known collection
# groups (1 Project Collection Administrators, 2 Project Collection Service
# Accounts, 3 Project Collection Valid Users) and ``-1-`` + four numbers for
# every other group. Names of built-in groups are translated on servers
# installed in another language; the SIDs are not.

SID_PREFIX = "S-1-9-1551374245"

# English name -> (well-known rid or None, SpecialType, description)
BUILTIN_COLLECTION_GROUPS: dict[str, tuple[int | None, str, str]] = {
    "Project Collection Administrators": (
        1, "AdministrativeApplicationGroup",
        "Members of this application group can perform all privileged operations on the Team Project Collection."),
    "Project Collection Service Accounts": (
        2, "ServiceApplicationGroup",
        "This application group contains Team Project Collection service accounts."),
    "Project Collection Valid Users": (
        3, "EveryoneApplicationGroup",
        "This application group contains all users and groups that have access to the Team Project Collection."),
    "Project Collection Build Administrators": (
        None, "Generic", "Members of this group should include accounts for people who should be able to "
                         "administer the build resources."),
    "Project Collection Build Service Accounts": (
        None, "Generic", "Members of this group should include the service accounts used by the build "
                         "controllers set up for this project collection."),
    "Project Collection Test Service Accounts": (
        None, "Generic", "Members of this group should include the service accounts used by the test "
                         "controllers set up for this project collection."),
}

BUILTIN_PROJECT_GROUPS: dict[str, tuple[str, str]] = {
    "Project Administrators": ("Generic", "Members of this group can perform all operations in the team project."),
    "Build Administrators": ("Generic", "Members of this group can create, modify and delete build definitions "
                                        "and manage queued and completed builds."),
    "Contributors": ("Generic", "Members of this group can add, modify, and delete items within the team project."),
    "Readers": ("Generic", "Members of this group have access to the team project."),
    "Project Valid Users": ("EveryoneApplicationGroup", "Members of this group have access to the team project."),
}

GROUP_NAME_TRANSLATIONS: dict[str, dict[str, str]] = {
    "de": {
        "Project Collection Administrators": "Projektsammlungsadministratoren",
        "Project Collection Service Accounts": "Projektsammlungs-Dienstkonten",
        "Project Collection Valid Users": "Gültige Benutzer der Projektsammlung",
        "Project Collection Build Administrators": "Projektsammlungs-Buildadministratoren",
        "Project Collection Build Service Accounts": "Projektsammlungs-Builddienstkonten",
        "Project Collection Test Service Accounts": "Projektsammlungs-Testdienstkonten",
        "Project Administrators": "Projektadministratoren",
        "Build Administrators": "Buildadministratoren",
        "Contributors": "Mitwirkende",
        "Readers": "Leser",
        "Project Valid Users": "Gültige Benutzer des Projekts",
    },
}


def _sid_numbers(*parts: str) -> str:
    digest = uuid.UUID(stable_uuid("sid", *parts)).hex
    return "-".join(str(int(digest[i:i + 8], 16)) for i in range(0, 32, 8))


@dataclass
class Group:
    """A security group of a collection (or a project of it)."""

    id: str
    sid: str
    name: str  # display name (translated for built-in groups)
    canonical: str  # English name of a built-in group, else the name
    scope_name: str  # the ``[scope]`` of the principal name
    domain: str  # vstfs:///Framework/IdentityDomain/<collection> or .../Classification/TeamProject/<project>
    project: Project | None = None
    description: str = ""
    special_type: str = "Generic"
    collection_level: bool = True
    # direct members: subject ids (identity ids and group ids), insertion-ordered
    members: dict[str, None] = field(default_factory=dict)

    @property
    def principal_name(self) -> str:
        """``[Scope]\\Name``."""
        return f"[{self.scope_name}]\\{self.name}"


class Directory:
    """Groups and direct memberships of one collection (onprem) or of the organisation (hosted)."""

    def __init__(self, collection: Collection, locale: str = "en", deployment_id: str | None = None) -> None:
        self.collection = collection
        self.locale = locale
        self.groups: dict[str, Group] = {}
        self._by_sid: dict[str, Group] = {}
        self.sid_prefix = f"{SID_PREFIX}-{_sid_numbers('collection', collection.id)}"
        names = GROUP_NAME_TRANSLATIONS.get(locale, {})
        for english, (rid, special, description) in BUILTIN_COLLECTION_GROUPS.items():
            self.add_group(names.get(english, english), canonical=english, rid=rid, special_type=special,
                           description=description)
        for project in collection.projects:
            for english, (special, description) in BUILTIN_PROJECT_GROUPS.items():
                self.add_group(names.get(english, english), project=project, canonical=english,
                               special_type=special, description=description)
        # Valid Users groups hold every other group of their scope (groups created later join in add_group).
        for group in self.groups.values():
            if group is not self.valid_users:
                self.valid_users.members[group.id] = None
            if group.project is not None and group.canonical != "Project Valid Users":
                self.builtin("Project Valid Users", group.project).members[group.id] = None
        # Project Collection Service Accounts is a member of Project Collection Administrators.
        self.add_member(self.builtin("Project Collection Administrators"),
                        self.builtin("Project Collection Service Accounts").id)
        if deployment_id:
            # The organisation's group list also shows deployment-level groups; this one shares the
            # well-known rid 2 with Project Collection Service Accounts (as in the Graph examples).
            sid = f"{SID_PREFIX}-{_sid_numbers('deployment', deployment_id)}-0-0-0-0-2"
            group = Group(id=stable_uuid("group", deployment_id, "enterprise service accounts"), sid=sid,
                          name="Enterprise Service Accounts", canonical="Enterprise Service Accounts",
                          scope_name="TEAM FOUNDATION", domain=f"vstfs:///Framework/IdentityDomain/{deployment_id}",
                          description="Members of this group have service-level permissions in this enterprise. "
                                      "For service accounts only.",
                          special_type="ServiceApplicationGroup", collection_level=False)
            self.groups[group.id] = group
            self._by_sid[sid.lower()] = group

    # -- groups ---------------------------------------------------------

    def add_group(self, name: str, project: Project | None = None, canonical: str | None = None,
                  rid: int | None = None, special_type: str = "Generic", description: str = "") -> Group:
        """Create a group (collection-level, or in ``project``); it joins the Valid Users groups."""
        canonical = canonical or name
        scope_id = project.id if project else ""
        if rid is not None:
            sid = f"{self.sid_prefix}-0-0-0-0-{rid}"
        else:
            sid = f"{self.sid_prefix}-1-{_sid_numbers('group', self.collection.id, scope_id, canonical.lower())}"
        domain = (f"vstfs:///Classification/TeamProject/{project.id}" if project
                  else f"vstfs:///Framework/IdentityDomain/{self.collection.id}")
        group = Group(id=stable_uuid("group", self.collection.id, scope_id, canonical.lower()), sid=sid, name=name,
                      canonical=canonical, scope_name=project.name if project else self.collection.name,
                      domain=domain, project=project, description=description, special_type=special_type,
                      collection_level=project is None)
        self.groups[group.id] = group
        self._by_sid[sid.lower()] = group
        everyone = self._by_sid.get(f"{self.sid_prefix}-0-0-0-0-3".lower())
        if everyone is not None and group is not everyone:
            everyone.members[group.id] = None
        if project is not None and canonical != "Project Valid Users":
            project_everyone = self.builtin("Project Valid Users", project)
            if project_everyone is not None:
                project_everyone.members[group.id] = None
        return group

    def builtin(self, english: str, project: Project | None = None) -> Group | None:
        """A built-in group by its English name (whatever the locale)."""
        for group in self.groups.values():
            if group.canonical == english and group.project is project and group.collection_level == (project is None):
                return group
        return None

    @property
    def valid_users(self) -> Group:
        """Project Collection Valid Users."""
        return self._by_sid[f"{self.sid_prefix}-0-0-0-0-3".lower()]

    @property
    def administrators(self) -> Group:
        """Project Collection Administrators."""
        return self._by_sid[f"{self.sid_prefix}-0-0-0-0-1".lower()]

    def group(self, group_id: str) -> Group | None:
        """Group by id."""
        return self.groups.get(str(group_id).strip().lower())

    def group_by_sid(self, sid: str) -> Group | None:
        """Group by security identifier."""
        return self._by_sid.get(str(sid).strip().lower())

    def find(self, name: str, project: str | None = None) -> Group | None:
        """Group by English or display name in the collection (``project=None``) or a project."""
        wanted = name.strip().lower()
        for group in self.groups.values():
            if not group.collection_level and group.project is None:
                continue
            in_scope = (group.project is None if project is None
                        else group.project is not None and group.project.name.lower() == project.strip().lower())
            if in_scope and wanted in (group.name.lower(), group.canonical.lower()):
                return group
        return None

    def resolve_ref(self, ref: str) -> Group:
        """A fixture group reference: ``Name`` (collection level) or ``Project/Name``."""
        project, _sep, name = ref.rpartition("/")
        group = self.find(name, project or None)
        if group is None:
            raise ValueError(f"group reference {ref!r}: no such group in {self.collection.name}")
        return group

    # -- memberships ----------------------------------------------------

    def add_member(self, group: Group, subject_id: str) -> bool:
        """Add a direct member; False when it already was one."""
        subject_id = subject_id.lower()
        if subject_id in group.members:
            return False
        group.members[subject_id] = None
        return True

    def remove_member(self, group: Group, subject_id: str) -> bool:
        """Remove a direct member; False when it was not one."""
        return group.members.pop(subject_id.lower(), False) is None

    def parents(self, subject_id: str) -> list[Group]:
        """Groups the subject is a direct member of."""
        subject_id = subject_id.lower()
        return [group for group in self.groups.values() if subject_id in group.members]

    def ancestors(self, subject_id: str) -> list[Group]:
        """Every group the subject is in, directly or through other groups (breadth first)."""
        seen: dict[str, Group] = {}
        level = [subject_id.lower()]
        while level:
            following = []
            for current in level:
                for group in self.parents(current):
                    if group.id not in seen:
                        seen[group.id] = group
                        following.append(group.id)
            level = following
        return list(seen.values())

    def descendants(self, group: Group) -> list[str]:
        """Subject ids of every member of ``group``, directly or through other groups."""
        seen: dict[str, None] = {}
        level = [group]
        while level:
            following = []
            for current in level:
                for member in current.members:
                    if member in seen:
                        continue
                    seen[member] = None
                    nested = self.groups.get(member)
                    if nested is not None:
                        following.append(nested)
            level = following
        return list(seen)

    def is_member(self, subject_id: str, group: Group, recursive: bool = True) -> bool:
        """Whether the subject is a (direct or nested) member of ``group``."""
        if not recursive:
            return subject_id.lower() in group.members
        return any(g is group for g in self.ancestors(subject_id))

    def identity_ids(self) -> set[str]:
        """Ids of the identities (not groups) that are a direct member of any group."""
        found: set[str] = set()
        for group in self.groups.values():
            found.update(member for member in group.members if member not in self.groups)
        return found

    def contains_identity(self, identity_id: str) -> bool:
        """True when the identity is in any group of the collection."""
        wanted = identity_id.lower()
        return any(wanted in group.members for group in self.groups.values())

    def apply_fixture(self, groups: list[dict[str, Any]], large: list[dict[str, Any]], state: "State") -> None:
        """Create the fixture's groups and add their members (identity keys and group references)."""
        pending: list[tuple[Group, list[str]]] = []
        for entry in groups:
            project = self.collection.project(str(entry["project"])) if entry.get("project") else None
            if entry.get("project") and project is None:
                continue  # this collection has no such project
            group = self.find(str(entry["name"]), project.name if project else None)
            if group is None:
                group = self.add_group(str(entry["name"]), project=project,
                                       description=str(entry.get("description") or ""))
            for key in entry.get("members") or []:
                identity = state.identity(str(key))
                if identity is None:
                    raise ValueError(f"group {entry['name']}: unknown identity {key!r}")
                self.add_member(group, identity.id)
            pending.append((group, [str(ref) for ref in entry.get("groups") or []]))
        for spec in large:
            project = self.collection.project(str(spec["project"])) if spec.get("project") else None
            group = self.find(str(spec["name"]), project.name if project else None) or self.add_group(
                str(spec["name"]), project=project, description=str(spec.get("description") or ""))
            for identity in spec.get("_identities") or []:
                group.members[identity.id.lower()] = None
            for ref in spec.get("member_of") or []:
                self.add_member(self.resolve_ref(str(ref)), group.id)
        for group, refs in pending:
            for ref in refs:
                self.add_member(group, self.resolve_ref(ref).id)
