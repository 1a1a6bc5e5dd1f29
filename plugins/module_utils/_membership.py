# -*- coding: utf-8 -*-
# Copyright: contributors to the azdo.auth collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Logic of azdo.auth.ado_group_membership: who is in which collection group, and fixing it.

The API follows the server, as connectionData reports it:

* Azure DevOps Services (``deploymentType: hosted``): the Graph API on the organisation's
  Graph host, found through the resource-areas API (once per run). Groups come from the
  paged group list (``X-MS-ContinuationToken``), users from a subject query (a prefix search
  capped at 100 answers; when it is cut, the paged user list decides), nested membership
  from ``Memberships/{subject}?direction=up``, one request per group on the way up.
* Azure DevOps Server / TFS (``onPremises``): the Identities API of the collection. Groups
  come from ``_apis/groups?scopeIds=<collection>&recurse=true``, identities from
  ``_apis/identities`` searches with ``queryMembership=Direct`` (the member's groups arrive
  with it), nested membership one request per level of groups (descriptors are batched),
  changes through ``_apis/identities/{group}/members/{member}``. The api-versions used
  (5.0, 5.0-preview.1) are accepted by every server since Azure DevOps Server 2019; older
  servers are negotiated down by the client.

Nested membership is searched upwards from the member, breadth first, so a query costs one
request per group the member is in (directly or not), never one per member of a large
group. Group lists and group expansions are cached per process, which is per task, and
shared by the items of a loop.

Well-known collection groups are matched by SID, not by their (translated) name:
Project Collection Administrators ``...-0-0-0-0-1``, Project Collection Service Accounts
``...-0-0-0-0-2``, Project Collection Valid Users ``...-0-0-0-0-3``.
"""

from __future__ import annotations

import base64
import difflib
import re

try:
    from urllib.parse import quote, unquote
except ImportError:  # pragma: no cover - Python 2 is not supported
    pass

from ansible_collections.azdo.auth.plugins.module_utils._argspec import client_from_params, connection_spec
from ansible_collections.azdo.auth.plugins.module_utils._client import (
    AREA_GRAPH, AREA_IDENTITIES, AdoConfigError, AdoError, AdoHttpError)
from ansible_collections.azdo.auth.plugins.module_utils._diagnosis import diagnose, failure_message
from ansible_collections.azdo.auth.plugins.module_utils._runner import ModuleFailure

GRAPH_VERSION = '7.1-preview.1'
IDENTITY_VERSION = '5.0'
MEMBERS_VERSION = '5.0-preview.1'
SUBJECT_QUERY_LIMIT = 100
MAX_GROUPS = 1000
DESCRIPTOR_BATCH = 40

WELL_KNOWN_RIDS = {
    'project collection administrators': '-0-0-0-0-1',
    'project collection service accounts': '-0-0-0-0-2',
    'project collection valid users': '-0-0-0-0-3',
}
ADMINISTRATORS_RID = '-0-0-0-0-1'
GROUP_IDENTITY_TYPE = 'microsoft.teamfoundation.identity'
GRAPH_GROUP_PREFIXES = ('vssgp', 'aadgp')
GRAPH_PREFIXES = ('aad', 'aadsp', 'aadgp', 'acs', 'ad', 'bnd', 'cuf', 'imp', 'msa', 's2s', 'scp', 'svc', 'unauth',
                  'vss', 'vssgp', 'win')
_ORIGINS = {'aad': 'aad', 'aadsp': 'aad', 'aadgp': 'aad', 'msa': 'msa', 'win': 'ad', 'ad': 'ad', 'vssgp': 'vsts',
            'svc': 'vsts', 'vss': 'vsts', 'imp': 'imp'}
_LEGACY_ORIGINS = {'microsoft.teamfoundation.identity': 'vsts', 'system.security.principal.windowsidentity': 'ad',
                   'microsoft.identitymodel.claims.claimsidentity': 'aad',
                   'microsoft.visualstudio.services.claims.aadserviceprincipal': 'aad',
                   'microsoft.teamfoundation.serviceidentity': 'vsts'}
_GRAPH_DESCRIPTOR_RE = re.compile(r'^([a-z0-9]{2,8})\.([A-Za-z0-9_-]+)$')
_SID_RE = re.compile(r'^S-1-\d+(-\d+)+$', re.IGNORECASE)
_SCOPED_RE = re.compile(r'^\[([^\]]+)\]\\(.+)$')
_LEGACY_RE = re.compile(r'^[A-Za-z][A-Za-z0-9.]+;.+$')

MODULE_SPEC = dict(
    argument_spec=connection_spec(
        group=dict(type='str', required=True),
        member=dict(type='str', required=True),
        state=dict(type='str', default='query', choices=['query', 'present', 'absent']),
        recursive=dict(type='bool', default=True),
    ),
    mutually_exclusive=[('pat', 'access_token')],
)

# Group lists and expansions, per process (a task, and the items of its loop), by API base URL.
_CACHE = {}


def reset_cache():
    """Forget cached groups and expansions (tests)."""
    _CACHE.clear()


# --------------------------------------------------------------------------------------------
# Pure helpers
# --------------------------------------------------------------------------------------------

def reference_kind(text):
    """How a group or member was written: (kind, value).

    kind is ``me``, ``graph`` (``aad.xxx``, ``vssgp.xxx``), ``legacy`` (``Type;identifier``),
    ``sid``, ``scoped`` (``[Scope]\\Name``), ``account`` (``DOMAIN\\name``), ``mail`` (has ``@``)
    or ``name``.
    """
    value = str(text).strip()
    if value.lower() == '@me':
        return 'me', value
    match = _GRAPH_DESCRIPTOR_RE.match(value)
    if match and match.group(1) in GRAPH_PREFIXES:
        return 'graph', value
    if _SID_RE.match(value):
        return 'sid', value.upper()
    if _SCOPED_RE.match(value):
        return 'scoped', value
    if _LEGACY_RE.match(value) and ' ' not in value.split(';', 1)[0]:
        return 'legacy', value
    if '\\' in value:
        return 'account', value
    if '@' in value:
        return 'mail', value
    return 'name', value


def b64url_encode(text):
    """base64url without padding, as descriptors carry their payload."""
    return base64.urlsafe_b64encode(text.encode('utf-8')).decode('ascii').rstrip('=')


def b64url_decode(text):
    """Inverse of b64url_encode; None when it is not base64 of UTF-8 text."""
    try:
        return base64.urlsafe_b64decode(str(text) + '=' * (-len(str(text)) % 4)).decode('utf-8')
    except (ValueError, TypeError, UnicodeDecodeError):
        return None


def graph_group_descriptor(sid):
    """The Graph descriptor of a collection group: ``vssgp.`` + base64url(SID)."""
    return 'vssgp.' + b64url_encode(sid)


def sid_of(descriptor):
    """The SID inside a group descriptor (Graph ``vssgp.``/``aadgp.`` or legacy ``...Identity;S-...``), or None."""
    if not descriptor:
        return None
    text = str(descriptor)
    match = _GRAPH_DESCRIPTOR_RE.match(text)
    if match:
        if match.group(1) not in GRAPH_GROUP_PREFIXES:
            return None
        decoded = b64url_decode(match.group(2))
        return decoded if decoded and _SID_RE.match(decoded) else None
    kind, dummy, identifier = text.partition(';')
    if kind.lower() == GROUP_IDENTITY_TYPE and _SID_RE.match(identifier):
        return identifier
    return None


def split_scoped(text):
    """``[Scope]\\Name`` -> (``Scope``, ``Name``); ``Name`` -> (None, ``Name``)."""
    match = _SCOPED_RE.match(str(text).strip())
    if match:
        return match.group(1).strip(), match.group(2).strip()
    return None, str(text).strip()


def match_groups(groups, text, collection_name=None, instance_id=None):
    """Groups (Subjects) that ``text`` names: well-known names by SID, ``[Scope]\\Name``, or a display name.

    Pure. Returns every match, so that the caller can tell "not found" from "ambiguous".
    """
    scope, name = split_scoped(text)
    lowered = name.lower()
    rid = WELL_KNOWN_RIDS.get(lowered)
    if rid and (scope is None or (collection_name and scope.lower() == collection_name.lower())):
        found = [g for g in groups if (g.sid or '').lower().endswith(rid)]
        if len(found) > 1 and instance_id:
            found = [g for g in found if instance_id.lower() in (g.domain or '').lower()] or found
        if len(found) > 1 and collection_name:
            found = [g for g in found if (split_scoped(g.name)[0] or '').lower() == collection_name.lower()] or found
        if found:
            return found
    if scope is not None:
        wanted = '[%s]\\%s' % (scope.lower(), lowered)
        return [g for g in groups if (g.name or '').lower() == wanted]
    return [g for g in groups if (g.display_name or '').lower() == lowered]


def find_path(start, target, expand, skip=None, limit=MAX_GROUPS):
    """Shortest chain of keys from ``start`` up to ``target`` (both included), or [].

    ``expand(keys)`` returns ``{key: [parent keys]}`` for a whole level at once (one batched
    request on premises, one request per uncached key in the Graph). ``skip`` is an edge
    ``(member, group)`` to ignore: the state after a removal, computed the same way in check mode.
    """
    previous = {start: None}
    level = [start]
    visited = 0
    while level:
        parents = expand(level)
        following = []
        for key in level:
            for parent in parents.get(key) or ():
                if skip is not None and (key, parent) == skip:
                    continue
                if parent in previous:
                    continue
                previous[parent] = key
                if parent == target:
                    chain = [parent]
                    while previous[chain[-1]] is not None:
                        chain.append(previous[chain[-1]])
                    return list(reversed(chain))
                following.append(parent)
        visited += len(following)
        if visited > limit:
            raise ModuleFailure('Stopped the nested membership search after %d groups; query with recursive=false, '
                                'or name a group closer to the member.' % limit)
        level = following
    return []


def _suggest(text, subjects):
    """Up to three names close to ``text``, closest first (same scope first for ``[Scope]\\Name``)."""
    scope, name = split_scoped(text)
    pool = list(subjects)
    if scope is not None:
        same = [s for s in pool if (split_scoped(s.name)[0] or '').lower() == scope.lower()]
        pool = same or pool
    candidates = {}
    for subject in pool:
        label = (split_scoped(subject.name)[1] if scope is not None else subject.display_name) or subject.name
        if label:
            candidates.setdefault(label.lower(), []).append(subject.name)
    found = []
    for close in difflib.get_close_matches(name.lower(), list(candidates), n=3, cutoff=0.6):
        found += [n for n in candidates[close] if n not in found]
    return found[:5]


def _listing(subjects, limit=5):
    names = ['%s (%s)' % (s.name, s.descriptor) for s in subjects[:limit]]
    if len(subjects) > limit:
        names.append('and %d more' % (len(subjects) - limit))
    return ', '.join(names)


class Subject(object):
    """A user, service principal or group as the module reports it."""

    def __init__(self, key, descriptor, name, kind, display_name=None, sid=None, origin=None, domain=None,
                 identity_id=None, mail=None):
        self.key = key
        self.descriptor = descriptor
        self.name = name
        self.kind = kind
        self.display_name = display_name
        self.sid = sid
        self.origin = origin
        self.domain = domain
        self.identity_id = identity_id
        self.mail = mail

    @property
    def is_group(self):
        return self.kind == 'group'

    def as_group(self):
        return {'name': self.name, 'descriptor': self.descriptor, 'sid': self.sid}

    def as_member(self):
        return {'name': self.name, 'descriptor': self.descriptor, 'origin': self.origin}


def graph_subject(item):
    """Subject from a Graph user, service principal or group."""
    descriptor = item.get('descriptor')
    kind = item.get('subjectKind') or ''
    kind = 'group' if kind.lower() == 'group' else ('servicePrincipal' if kind.lower() == 'serviceprincipal' else 'user')
    name = item.get('principalName') or item.get('displayName') or descriptor
    if kind == 'servicePrincipal':
        name = item.get('displayName') or name
    return Subject(descriptor, descriptor, name, kind, display_name=item.get('displayName'),
                   sid=sid_of(descriptor) if kind == 'group' else None, origin=item.get('origin'),
                   domain=item.get('domain'), mail=item.get('mailAddress'))


def _prop(properties, name):
    value = (properties or {}).get(name)
    if isinstance(value, dict):
        return value.get('$value')
    return value


def identity_subject(item):
    """Subject from an Identities API identity (user, service principal or group)."""
    descriptor = item.get('descriptor')
    if isinstance(descriptor, dict):  # the spec's IdentityDescriptor object; the wire sends a string
        descriptor = '%s;%s' % (descriptor.get('identityType'), descriptor.get('identifier'))
    descriptor = str(descriptor or '')
    properties = item.get('properties') or {}
    identity_type = descriptor.split(';', 1)[0].lower()
    subject_prefix = str(item.get('subjectDescriptor') or '').split('.', 1)[0].lower()
    origin = _ORIGINS.get(subject_prefix) or _LEGACY_ORIGINS.get(identity_type)
    if item.get('isContainer') or identity_type == GROUP_IDENTITY_TYPE:
        account = _prop(properties, 'Account')
        name = item.get('providerDisplayName') or '[%s]\\%s' % (_prop(properties, 'ScopeName'), account)
        display = account or split_scoped(name)[1]
        return Subject(descriptor.lower(), descriptor, name, 'group', display_name=display, sid=sid_of(descriptor),
                       origin=origin or 'vsts', domain=_prop(properties, 'Domain'), identity_id=item.get('id'))
    kind = 'servicePrincipal' if _prop(properties, 'SchemaClassName') == 'ServicePrincipal' else 'user'
    account = _prop(properties, 'Account')
    display = item.get('customDisplayName') or item.get('providerDisplayName')
    return Subject(descriptor.lower(), descriptor, account or display or descriptor, kind, display_name=display,
                   origin=origin, domain=_prop(properties, 'Domain'), identity_id=item.get('id'),
                   mail=_prop(properties, 'Mail'))


def _user_matches(subject, text, kind):
    wanted = text.strip().lower()
    names = [n.lower() for n in (subject.name, subject.mail, subject.display_name) if n]
    if kind == 'account':
        domain, dummy, alias = wanted.partition('\\')
        principal = (subject.name or '').lower()
        return wanted in names or principal.split('@', 1)[0] == alias or principal == '%s\\%s' % (domain, alias)
    if kind == 'mail':
        return any(n.lower() == wanted for n in (subject.name, subject.mail) if n)
    return wanted in names


# --------------------------------------------------------------------------------------------
# The two directories: Graph (cloud) and Identities (on premises)
# --------------------------------------------------------------------------------------------

class _Directory(object):
    """What both APIs offer the module; subclasses implement the requests."""

    api = None
    read_scope = None
    write_scope = None
    can_materialize = False

    def __init__(self, client, connection_data, area):
        self.client = client
        self.data = connection_data or {}
        self.instance_id = str(self.data.get('instanceId') or '').lower()
        self.collection_name = unquote(client.url.rstrip('/').rsplit('/', 1)[-1])
        self.me = self.data.get('authenticatedUser') or {}
        self.base = client.area_url(area)

    def _cache(self, name):
        return _CACHE.setdefault((self.api, self.base.lower(), name), {})

    def _remember(self, subject):
        self._cache('subjects')[subject.key] = subject
        return subject

    def explain(self, err, write):
        """A ModuleFailure for a 401/403 after connectionData succeeded (scope or permission), else None."""
        if not isinstance(err, AdoHttpError) or err.status not in (401, 403) or err.tf_code:
            return None
        if err.status == 401:
            scope = self.write_scope if write else self.read_scope
            return ModuleFailure(
                'The %s API answered HTTP 401 although the credential authenticated: it lacks the scope %s '
                '(needed to %s group memberships). Give the token the scope %s%s, or use a credential that has '
                'it. Server said: %s' % (
                    'Graph' if self.api == 'graph' else 'Identities', scope, 'change' if write else 'read', scope,
                    '' if write else ' (or %s, which includes it)' % self.write_scope, err))
        return ModuleFailure(
            'Access denied by the %s API: %s. Changing group membership needs membership in Project Collection '
            'Administrators (for a project group, the project\'s Project Administrators will do) or the "Manage '
            'membership" permission on the group; reading needs the scope %s.'
            % ('Graph' if self.api == 'graph' else 'Identities', err, self.read_scope))

    def _request(self, method, path, version, params=None, body=None, write=False, expect_json=True):
        try:
            return self.client.request(method, path, params=params, json_body=body, api_version=version,
                                       base_url=self.base, expect_json=expect_json)
        except AdoHttpError as err:
            failure = self.explain(err, write)
            if failure is not None:
                raise failure
            raise

    def _one(self, what, text, matches, universe, hint):
        unique = []
        for subject in matches:
            if subject.key not in [u.key for u in unique]:
                unique.append(subject)
        if len(unique) == 1:
            return self._remember(unique[0])
        if not unique:
            close = _suggest(text, universe)
            raise ModuleFailure("%s '%s' was not found in %s (%s API).%s %s" % (
                what.capitalize(), text, self.client.url, 'Graph' if self.api == 'graph' else 'Identities',
                ' Did you mean: %s?' % ', '.join(close) if close else '', hint))
        raise ModuleFailure("%s '%s' is ambiguous in %s: %d match (%s). %s" % (
            what.capitalize(), text, self.client.url, len(unique), _listing(unique), hint))

    # -- shared algorithms ------------------------------------------------------------

    def names(self, keys):
        """Display names (principal names) for keys, looked up in one request when unknown."""
        known = dict((s.key, s.name) for s in self._cache('subjects').values())
        for group in self._cache('groups').get('all') or []:
            known.setdefault(group.key, group.name)
        missing = [k for k in keys if k not in known]
        if missing:
            for subject in self.lookup(missing):
                known[subject.key] = self._remember(subject).name
        return [known.get(k, k) for k in keys]

    def is_group_key(self, key):
        raise NotImplementedError

    def is_direct(self, member, group):
        return group.key in (self.parents([member.key]).get(member.key) or [])

    def _note(self, member, group, added):
        parents = self._cache('parents')
        children = self._cache('children')
        if member.key in parents:
            parents[member.key] = [k for k in parents[member.key] if k != group.key] + ([group.key] if added else [])
        if group.key in children:
            children[group.key] = [k for k in children[group.key] if k != member.key] + ([member.key] if added else [])

    def _expand(self, keys, direction):
        cache = self._cache(direction)
        missing = [k for k in keys if k not in cache]
        if missing:
            cache.update(self._fetch(missing, direction))
        return dict((k, cache.get(k) or []) for k in keys)

    def parents(self, keys):
        return self._expand(keys, 'parents')

    def children(self, keys):
        return self._expand(keys, 'children')


class GraphDirectory(_Directory):
    """Azure DevOps Services: the Graph API (descriptors ``aad.``, ``vssgp.``...)."""

    api = 'graph'
    read_scope = 'vso.graph'
    write_scope = 'vso.graph_manage'
    can_materialize = True

    def __init__(self, client, connection_data):
        super(GraphDirectory, self).__init__(client, connection_data, AREA_GRAPH)

    def _get(self, path, params=None, write=False, method='GET', body=None, expect_json=True):
        return self._request(method, path, GRAPH_VERSION, params=params, body=body, write=write,
                             expect_json=expect_json)

    def _paged(self, path, params=None):
        try:
            return list(self.client.paged(path, params=params, api_version=GRAPH_VERSION, base_url=self.base))
        except AdoHttpError as err:
            failure = self.explain(err, False)
            if failure is not None:
                raise failure
            raise

    def is_group_key(self, key):
        return str(key).split('.', 1)[0] in GRAPH_GROUP_PREFIXES

    def groups(self):
        cache = self._cache('groups')
        if 'all' not in cache:
            cache['all'] = [graph_subject(item) for item in self._paged('_apis/graph/groups')]
        return cache['all']

    def _all(self, what):
        cache = self._cache(what)
        if 'all' not in cache:
            cache['all'] = [graph_subject(item) for item in self._paged('_apis/graph/%s' % what)]
        return cache['all']

    def lookup(self, descriptors):
        if not descriptors:
            return []
        data = self._get('_apis/graph/subjectlookup', method='POST',
                         body={'lookupKeys': [{'descriptor': d} for d in descriptors]}) or {}
        value = data.get('value') or {}
        return [graph_subject(item) for item in value.values()] if isinstance(value, dict) else []

    def _group(self, descriptor):
        for group in self._cache('groups').get('all') or []:
            if group.key == descriptor:
                return group
        try:
            return graph_subject(self._get('_apis/graph/groups/%s' % quote(descriptor, safe='')) or {})
        except AdoHttpError as err:
            if err.status in (400, 404):
                return None
            raise

    def resolve_group(self, text):
        kind, value = reference_kind(text)
        hint = 'Write the group as its name, [Scope]\\Name, its SID or its descriptor.'
        if kind in ('graph', 'legacy', 'sid'):
            sid = value if kind == 'sid' else sid_of(value)
            if sid is None:
                raise ModuleFailure("Group '%s' is not the descriptor or SID of a group. %s" % (text, hint))
            descriptor = value if kind == 'graph' else graph_group_descriptor(sid)
            group = self._group(descriptor)
            return self._one('group', text, [group] if group and group.descriptor else [], [], hint)
        if kind == 'me':
            raise ModuleFailure("Group '%s' names a user; %s" % (text, hint))
        return self._one('group', text, match_groups(self.groups(), text, self.collection_name, self.instance_id),
                         self.groups(), hint)

    def _me(self):
        descriptor = self.me.get('subjectDescriptor')
        if not descriptor:
            data = self._get('_apis/graph/descriptors/%s' % quote(str(self.me.get('id') or ''), safe='')) or {}
            descriptor = data.get('value')
        found = [s for s in self.lookup([descriptor]) if s.key == descriptor] if descriptor else []
        return self._one('member', '@me', found, [], 'The credential\'s own identity is not a subject of the '
                         'organization.')

    def _find_users(self, text, kind):
        query = text.split('\\', 1)[1] if kind == 'account' else text
        truncated = False
        try:
            data = self._get('_apis/graph/subjectquery', method='POST', body={'query': query, 'subjectKind': ['User']})
            values = (data or {}).get('value') or []
            found = [graph_subject(v) for v in values]
            truncated = len(values) >= SUBJECT_QUERY_LIMIT
        except AdoHttpError as err:
            if err.status not in (400, 404, 405):
                raise
            found, truncated = [], True  # no subject query on this server: read the whole user list
        exact = [s for s in found if _user_matches(s, text, kind)]
        if truncated:
            exact = [s for s in self._all('users') if _user_matches(s, text, kind)]
        if not exact:
            exact = [s for s in self._all('serviceprincipals') if _user_matches(s, text, kind)]
        return exact

    def resolve_member(self, text, allow_missing=()):
        kind, value = reference_kind(text)
        hint = ('Write the member as a UPN or e-mail address, a group name, [Scope]\\Name, a descriptor, or @me. '
                'A user of the Microsoft Entra tenant who is not in the organization yet (TF400813) is not found '
                'either: state=present adds it by its UPN.')
        if kind == 'me':
            return self._me()
        if kind in ('sid', 'scoped') or (kind in ('graph', 'legacy') and sid_of(value)):
            return self.resolve_group(text)
        if kind == 'graph':
            return self._one('member', text, [s for s in self.lookup([value]) if s.key == value], [], hint)
        if kind == 'legacy':
            raise ModuleFailure("Member '%s' is an identity descriptor of the Identities API; the Graph API of %s needs "
                                "the UPN or the subject descriptor (aad.xxx). %s" % (text, self.client.url, hint))
        matches = []
        if kind == 'name':
            matches += match_groups(self.groups(), text, self.collection_name, self.instance_id)
        matches += self._find_users(text, kind)
        if not matches and kind in allow_missing:
            return None
        return self._one('member', text, matches, matches or self._cache('groups').get('all') or [], hint)

    def _fetch(self, keys, direction):
        found = {}
        for key in keys:
            try:
                data = self._get('_apis/graph/Memberships/%s' % quote(key, safe=''),
                                 params={'direction': 'up' if direction == 'parents' else 'down', 'depth': 1}) or {}
            except AdoHttpError as err:
                if err.status != 404:
                    raise
                data = {}  # a subject the organisation no longer knows is in no group
            field = 'containerDescriptor' if direction == 'parents' else 'memberDescriptor'
            found[key] = [m.get(field) for m in data.get('value') or [] if m.get(field)]
        return found

    def is_direct(self, member, group):
        cached = self._cache('parents').get(member.key)
        if cached is not None:
            return group.key in cached
        try:
            self._get('_apis/graph/memberships/%s/%s' % (quote(member.key, safe=''), quote(group.key, safe='')),
                      method='HEAD', expect_json=False)
            return True
        except AdoHttpError as err:
            if err.status == 404:
                return False
            raise

    def add(self, member, group):
        self._get('_apis/graph/memberships/%s/%s' % (quote(member.key, safe=''), quote(group.key, safe='')),
                  method='PUT', write=True)
        self._note(member, group, True)

    def remove(self, member, group):
        self._get('_apis/graph/memberships/%s/%s' % (quote(member.key, safe=''), quote(group.key, safe='')),
                  method='DELETE', write=True, expect_json=False)
        self._note(member, group, False)

    def materialize(self, text, group):
        """Bring a user of the organisation's Microsoft Entra tenant in, as a member of ``group``."""
        try:
            data = self._get('_apis/graph/users', method='POST', write=True, body={'principalName': text},
                             params={'groupDescriptors': group.descriptor})
        except AdoHttpError as err:
            if err.status in (400, 404):
                raise ModuleFailure("Member '%s' was not found: it is neither a subject of %s nor a user of its "
                                    "Microsoft Entra tenant. Server said: %s" % (text, self.client.url, err))
            raise
        return self._remember(graph_subject(data or {}))


class IdentitiesDirectory(_Directory):
    """Azure DevOps Server / TFS: the Identities API of the collection."""

    api = 'identities'
    read_scope = 'vso.identity'
    write_scope = 'vso.identity_manage'

    def __init__(self, client, connection_data):
        super(IdentitiesDirectory, self).__init__(client, connection_data, AREA_IDENTITIES)

    def is_group_key(self, key):
        return str(key).lower().startswith(GROUP_IDENTITY_TYPE + ';')

    def _read(self, params, membership='None'):
        query = dict(params)
        query['queryMembership'] = membership
        data = self._request('GET', '_apis/identities', IDENTITY_VERSION, params=query) or {}
        subjects = []
        for item in data.get('value') or []:
            if not item:
                continue
            subject = self._remember(identity_subject(item))
            if membership == 'Direct':
                self._cache('parents')[subject.key] = [str(d).lower() for d in item.get('memberOf') or []]
                if subject.is_group:
                    self._cache('children')[subject.key] = [str(d).lower() for d in item.get('members') or []]
            for descriptor in list(item.get('memberOf') or []) + list(item.get('members') or []):
                self._cache('original').setdefault(str(descriptor).lower(), str(descriptor))
            subjects.append(subject)
        return subjects

    def _original(self, key):
        subject = self._cache('subjects').get(key)
        if subject is not None:
            return subject.descriptor
        return self._cache('original').get(key, key)

    def groups(self):
        cache = self._cache('groups')
        if 'all' not in cache:
            params = {'scopeIds': self.data.get('instanceId'), 'recurse': 'true'}
            data = self._request('GET', '_apis/groups', IDENTITY_VERSION, params=params) or {}
            cache['all'] = [identity_subject(item) for item in data.get('value') or [] if item]
        return cache['all']

    def lookup(self, keys):
        found = []
        for start in range(0, len(keys), DESCRIPTOR_BATCH):
            chunk = [self._original(k) for k in keys[start:start + DESCRIPTOR_BATCH]]
            found += self._read({'descriptors': ','.join(chunk)})
        return found

    def resolve_group(self, text):
        kind, value = reference_kind(text)
        hint = 'Write the group as its name, [Scope]\\Name, its SID or its descriptor.'
        if kind in ('graph', 'legacy', 'sid'):
            sid = value if kind == 'sid' else sid_of(value)
            if sid is None:
                raise ModuleFailure("Group '%s' is not the descriptor or SID of a group. %s" % (text, hint))
            key = ('%s;%s' % (GROUP_IDENTITY_TYPE, sid)).lower()
            found = [g for g in self.groups() if g.key == key]
            if not found:
                found = [s for s in self._read({'descriptors': 'Microsoft.TeamFoundation.Identity;%s' % sid})
                         if s.key == key]
            return self._one('group', text, found, [], hint)
        if kind == 'me':
            raise ModuleFailure("Group '%s' names a user; %s" % (text, hint))
        return self._one('group', text, match_groups(self.groups(), text, self.collection_name, self.instance_id),
                         self.groups(), hint)

    def resolve_member(self, text, allow_missing=()):
        kind, value = reference_kind(text)
        hint = 'Write the member as DOMAIN\\name, a UPN or e-mail address, a group name, [Scope]\\Name, a descriptor, ' \
               'or @me.'
        if kind == 'me':
            descriptor = self.me.get('descriptor')
            if isinstance(descriptor, dict):
                descriptor = '%s;%s' % (descriptor.get('identityType'), descriptor.get('identifier'))
            found = self._read({'descriptors': descriptor}, 'Direct') if descriptor else []
            return self._one('member', text, found, [], 'The credential\'s own identity was not found.')
        if kind in ('sid', 'scoped') or (kind in ('graph', 'legacy') and sid_of(value)):
            return self.resolve_group(text)
        if kind == 'legacy':
            return self._one('member', text, [s for s in self._read({'descriptors': value}, 'Direct')
                                              if s.key == value.lower()], [], hint)
        if kind == 'graph':
            return self._one('member', text, self._read({'subjectDescriptors': value}, 'Direct'), [], hint)
        matches = []
        if kind == 'name':
            matches += match_groups(self.groups(), text, self.collection_name, self.instance_id)
        search = 'AccountName' if kind == 'account' else 'General'
        found = self._read({'searchFilter': search, 'filterValue': value}, 'Direct')
        matches += [s for s in found if not s.is_group and (kind == 'account' or _user_matches(s, text, kind))]
        if not matches and kind in allow_missing:
            return None
        return self._one('member', text, matches, matches or self._cache('groups').get('all') or [], hint)

    def _fetch(self, keys, direction):
        found = dict((k, []) for k in keys)
        for start in range(0, len(keys), DESCRIPTOR_BATCH):
            chunk = keys[start:start + DESCRIPTOR_BATCH]
            self._read({'descriptors': ','.join(self._original(k) for k in chunk)}, 'Direct')
            for key in chunk:
                found[key] = self._cache(direction).get(key) or []
        return found

    def add(self, member, group):
        self._request('PUT', '_apis/identities/%s/members/%s' % (quote(group.identity_id, safe=''),
                                                                 quote(member.identity_id, safe='')),
                      MEMBERS_VERSION, write=True)
        self._note(member, group, True)

    def remove(self, member, group):
        self._request('DELETE', '_apis/identities/%s/members/%s' % (quote(group.identity_id, safe=''),
                                                                    quote(member.identity_id, safe='')),
                      MEMBERS_VERSION, write=True)
        self._note(member, group, False)


def open_directory(client, connection_data):
    """The directory of the server: Graph in the cloud, Identities on premises."""
    if (connection_data or {}).get('deploymentType') == 'hosted':
        return GraphDirectory(client, connection_data)
    return IdentitiesDirectory(client, connection_data)


# --------------------------------------------------------------------------------------------
# The module
# --------------------------------------------------------------------------------------------

def guard_last_administrator(directory, member, group):
    """Refuse to leave Project Collection Administrators without any user or service account."""
    if not (group.sid or '').lower().endswith(ADMINISTRATORS_RID):
        return
    seen = set([group.key])
    level = [group.key]
    while level:
        children = directory.children(level)
        following = []
        for parent in level:
            for child in children.get(parent) or ():
                if (child, parent) == (member.key, group.key) or child in seen:
                    continue
                seen.add(child)
                if not directory.is_group_key(child):
                    return  # someone else stays an administrator
                following.append(child)
        level = following
    raise ModuleFailure(
        'Refusing to remove %s from %s: no other user or service account would remain in it, directly or through '
        'a group, and nobody could administer the collection any more. Add another administrator first.'
        % (member.name, group.name))


def converge(directory, group_text, member_text, state, recursive, check_mode, warn):
    """Query or change one membership; returns the module result without ``requests``."""
    group = directory.resolve_group(group_text)
    allow_missing = ()
    if state == 'absent':
        allow_missing = ('account', 'mail', 'name')  # nothing to remove
    elif state == 'present' and directory.can_materialize:
        allow_missing = ('mail',)  # a tenant user the Graph can add
    member = directory.resolve_member(member_text, allow_missing=allow_missing)
    result = {'api': directory.api, 'changed': False, 'group': group.as_group()}
    if member is None and state == 'absent':
        warn('%s was not found in %s; there is no membership to remove.' % (member_text, directory.client.url))
        result.update(is_member=False, direct=False, path=[],
                      member={'name': member_text, 'descriptor': None, 'origin': None},
                      diff={'before': {'group': group.name, 'member': member_text, 'direct_member': False},
                            'after': {'group': group.name, 'member': member_text, 'direct_member': False}})
        return result
    if member is None:
        # A user of the tenant who is not in the organisation yet (TF400813): the Graph adds it in one call.
        if check_mode:
            warn('%s is not a user of %s yet; it would be added from the Microsoft Entra tenant (check mode '
                 'cannot verify that the tenant knows it).' % (member_text, directory.client.url))
            member_info = {'name': member_text, 'descriptor': None, 'origin': None}
        else:
            member_info = directory.materialize(member_text, group).as_member()
        result.update(changed=True, is_member=True, direct=True, path=[member_info['name'], group.name],
                      member=member_info,
                      diff={'before': {'group': group.name, 'member': member_text, 'direct_member': False},
                            'after': {'group': group.name, 'member': member_info['name'], 'direct_member': True}})
        return result
    result['member'] = member.as_member()
    if member.key == group.key:
        raise ModuleFailure('Member and group are the same group (%s).' % group.name, **result)
    if state == 'query':
        if recursive:
            chain = find_path(member.key, group.key, directory.parents)
            direct = len(chain) == 2
        else:
            direct = directory.is_direct(member, group)
            chain = [member.key, group.key] if direct else []
        result.update(is_member=bool(chain), direct=direct, path=directory.names(chain))
        return result

    direct_before = directory.is_direct(member, group)
    if state == 'present':
        if member.is_group and not direct_before:
            loop = find_path(group.key, member.key, directory.parents)
            if loop:
                raise ModuleFailure('Adding %s to %s would make a cycle: %s.' % (
                    member.name, group.name, ' -> '.join(directory.names(loop))), **result)
        changed = not direct_before
        if changed and not check_mode:
            directory.add(member, group)
        result.update(is_member=True, direct=True, path=[member.name, group.name])
        direct_after = True
    else:
        changed = direct_before
        if changed:
            guard_last_administrator(directory, member, group)
            if not check_mode:
                directory.remove(member, group)
        chain = find_path(member.key, group.key, directory.parents, skip=(member.key, group.key)) if recursive else []
        names = directory.names(chain)
        if chain:
            warn('%s stays a member of %s through %s.' % (member.name, group.name, ' -> '.join(names[1:-1])))
        result.update(is_member=bool(chain), direct=False, path=names)
        direct_after = False
    result['changed'] = changed
    result['diff'] = {'before': {'group': group.name, 'member': member.name, 'direct_member': direct_before},
                      'after': {'group': group.name, 'member': member.name, 'direct_member': direct_after}}
    return result


def run(params, check_mode, warn):
    """ado_group_membership: query (read-only), present or absent."""
    state = params.get('state') or 'query'
    for option in ('group', 'member'):
        if not str(params.get(option) or '').strip():
            raise ModuleFailure('%s must not be empty.' % option, api=None, requests=0)
    try:
        client = client_from_params(params, warn=warn)
    except AdoConfigError as err:
        raise ModuleFailure(str(err), api=None, requests=0)
    try:
        data = client.get_connection_data()
    except AdoError as err:
        diagnosis = diagnose(err, 'connect', auth_method=client.auth_method, token_hint=client.token_hint)
        raise ModuleFailure(failure_message('Connecting to %s failed' % client.url, diagnosis),
                            diagnosis=diagnosis, api=None, requests=client.request_count)
    directory = None
    try:
        directory = open_directory(client, data)
        result = converge(directory, params['group'], params['member'], state, params.get('recursive', True),
                          check_mode, warn)
    except ModuleFailure as exc:
        exc.result.setdefault('api', directory.api if directory else None)
        exc.result['requests'] = client.request_count
        raise
    except AdoError as err:
        raise ModuleFailure("Group membership %s of '%s' in '%s' at %s failed: %s" % (
            'query' if state == 'query' else 'change', params['member'], params['group'], client.url, err),
            api=directory.api if directory else None, requests=client.request_count)
    result['requests'] = client.request_count
    return result
