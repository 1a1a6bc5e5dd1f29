# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of plugins/module_utils/_membership.py: pure helpers, both directories on a fake transport,
and the query / present / absent logic on an in-memory directory."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from ansible_collections.azdo.auth.plugins.module_utils import _membership as m
from ansible_collections.azdo.auth.plugins.module_utils._client import AdoHttpError
from ansible_collections.azdo.auth.plugins.module_utils._runner import ModuleFailure, call

from .conftest import ADO_HEADERS, make_response, vss_error

PCVU_SID = 'S-1-9-1551374245-1725938060-2279921994-2555521242-2616350130-0-0-0-0-3'
PCA_SID = 'S-1-9-1551374245-1725938060-2279921994-2555521242-2616350130-0-0-0-0-1'
ORG_ID = '8cb9df66-e487-4ad9-9852-28da9bf255b2'


@pytest.fixture(autouse=True)
def _fresh_membership_cache():
    m.reset_cache()
    yield
    m.reset_cache()


def group(name, sid, domain=ORG_ID, key=None):
    return m.Subject(key or m.graph_group_descriptor(sid), key or m.graph_group_descriptor(sid), name, 'group',
                     display_name=m.split_scoped(name)[1], sid=sid,
                     domain='vstfs:///Framework/IdentityDomain/%s' % domain)


# --------------------------------------------------------------------------------------------
# pure helpers
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize('text, kind', [
    ('@me', 'me'), ('@ME', 'me'),
    ('aad.MTQ0MWY5ZDM', 'graph'), ('vssgp.Uy0xLTktMTU1', 'graph'),
    ('S-1-9-1551374245-1-2-3-4-0-0-0-0-3', 'sid'),
    ('[DefaultCollection]\\Project Collection Build Service Accounts', 'scoped'),
    ('[MyProject]\\Contributors', 'scoped'),
    ('Microsoft.TeamFoundation.Identity;S-1-9-1551374245-1', 'legacy'),
    ('Microsoft.IdentityModel.Claims.ClaimsIdentity;FABRIKAM\\admin', 'legacy'),
    ('FABRIKAM\\svc-build', 'account'),
    ('admin@fabrikam.example', 'mail'),
    ('Project Collection Valid Users', 'name'), ('Contributors', 'name'),
    ('example.com', 'name'),
])
def test_reference_kind(text, kind):
    assert m.reference_kind(text)[0] == kind


def test_sid_and_descriptor_round_trip():
    descriptor = m.graph_group_descriptor(PCVU_SID)
    # the same value the service sends (ims SearchPCVUByName example)
    assert descriptor == ('vssgp.Uy0xLTktMTU1MTM3NDI0NS0xNzI1OTM4MDYwLTIyNzk5MjE5OTQtMjU1NTUyMTI0Mi0yNjE2MzUwMTMw'
                          'LTAtMC0wLTAtMw')
    assert m.sid_of(descriptor) == PCVU_SID
    assert m.sid_of('Microsoft.TeamFoundation.Identity;' + PCVU_SID) == PCVU_SID
    assert m.sid_of('aad.MTQ0MWY5ZDM') is None
    assert m.sid_of('vssgp.!!!') is None
    assert m.sid_of(None) is None


def test_match_groups_by_well_known_sid_whatever_the_name():
    groups = [group('[Sammlung]\\Gültige Benutzer der Projektsammlung', PCVU_SID),
              group('[Sammlung]\\Projektsammlungsadministratoren', PCA_SID),
              group('[P]\\Mitwirkende', 'S-1-9-1551374245-1-2-3-4-1-5-6-7-8')]
    found = m.match_groups(groups, 'Project Collection Valid Users', 'Sammlung')
    assert [g.name for g in found] == ['[Sammlung]\\Gültige Benutzer der Projektsammlung']
    assert m.match_groups(groups, '[Sammlung]\\Project Collection Administrators', 'Sammlung')[0].sid == PCA_SID
    # a scope that is not this collection: no SID shortcut
    assert m.match_groups(groups, '[Other]\\Project Collection Valid Users', 'Sammlung') == []
    # the translated name works as a plain display name too
    assert len(m.match_groups(groups, 'gültige benutzer der projektsammlung', 'Sammlung')) == 1


def test_match_groups_prefers_the_collection_when_rids_repeat():
    enterprise = group('[TEAM FOUNDATION]\\Enterprise Service Accounts',
                       'S-1-9-1551374245-9-9-9-9-0-0-0-0-2', domain='00000000-0000-4000-8000-000000000001')
    pcsa = group('[fabrikam]\\Project Collection Service Accounts', 'S-1-9-1551374245-1-2-3-4-0-0-0-0-2')
    found = m.match_groups([enterprise, pcsa], 'Project Collection Service Accounts', 'fabrikam', ORG_ID)
    assert found == [pcsa]
    # without the instance id the scope of the principal name decides
    assert m.match_groups([enterprise, pcsa], 'Project Collection Service Accounts', 'fabrikam') == [pcsa]


def test_match_groups_scoped_and_ambiguous_names():
    readers = [group('[Fabrikam-Fiber]\\Readers', 'S-1-9-1551374245-1-2-3-4-1-1-1-1-1'),
               group('[Payments]\\Readers', 'S-1-9-1551374245-1-2-3-4-1-2-2-2-2')]
    assert len(m.match_groups(readers, 'Readers')) == 2
    assert m.match_groups(readers, '[payments]\\readers')[0].name == '[Payments]\\Readers'


def test_find_path_breadth_first_with_skip_and_limit():
    graph = {'u': ['a', 'g'], 'a': ['b'], 'b': ['g'], 'g': []}
    calls = []

    def expand(keys):
        calls.append(list(keys))
        return dict((k, graph.get(k, [])) for k in keys)

    assert m.find_path('u', 'g', expand) == ['u', 'g']
    assert m.find_path('u', 'g', expand, skip=('u', 'g')) == ['u', 'a', 'b', 'g']
    assert m.find_path('u', 'zzz', expand) == []
    graph_cycle = {'x': ['y'], 'y': ['x']}
    assert m.find_path('x', 'q', lambda keys: dict((k, graph_cycle[k]) for k in keys)) == []

    def wide(keys):
        return dict((k, ['%s.%d' % (k, i) for i in range(50)]) for k in keys)

    with pytest.raises(ModuleFailure, match='Stopped the nested membership search'):
        m.find_path('root', 'never', wide, limit=100)


def test_identity_subject_shapes():
    group_item = {
        'id': '7c86b535-818b-423f-b0fd-19a2e9f32710',
        'descriptor': 'Microsoft.TeamFoundation.Identity;' + PCVU_SID,
        'subjectDescriptor': m.graph_group_descriptor(PCVU_SID),
        'providerDisplayName': '[jtseng]\\Project Collection Valid Users', 'isContainer': True,
        'properties': {'Account': {'$type': 'System.String', '$value': 'Project Collection Valid Users'},
                       'Domain': {'$type': 'System.String', '$value': 'vstfs:///Framework/IdentityDomain/%s' % ORG_ID}},
    }
    subject = m.identity_subject(group_item)
    assert subject.is_group and subject.sid == PCVU_SID and subject.origin == 'vsts'
    assert subject.key == group_item['descriptor'].lower()
    assert subject.display_name == 'Project Collection Valid Users'
    user = m.identity_subject({'id': 'u1', 'descriptor': {'identityType': 'System.Security.Principal.WindowsIdentity',
                                                          'identifier': 'S-1-5-21-1'},
                               'providerDisplayName': 'Build Service',
                               'properties': {'Account': {'$value': 'FABRIKAM\\svc-build'}}})
    assert not user.is_group and user.origin == 'ad' and user.name == 'FABRIKAM\\svc-build'
    assert user.descriptor == 'System.Security.Principal.WindowsIdentity;S-1-5-21-1'


# --------------------------------------------------------------------------------------------
# Graph directory on a fake transport
# --------------------------------------------------------------------------------------------

class FakeGraph(object):
    """Answers Graph calls from in-memory users, groups and memberships; counts pages."""

    def __init__(self, users, groups, edges, page_size=2, subject_query=True, me=None):
        self.users = users
        self.groups = groups
        self.edges = set(edges)
        self.page_size = page_size
        self.subject_query = subject_query
        self.me = me or {'id': 'me-id', 'subjectDescriptor': 'aad.me', 'descriptor': 'x;y'}
        self.calls = []

    def _page(self, items, query):
        start = int(query.get('continuationToken', ['0'])[0])
        headers = dict(ADO_HEADERS)
        if start + self.page_size < len(items):
            headers['X-MS-ContinuationToken'] = str(start + self.page_size)
        return make_response(200, {'count': len(items[start:start + self.page_size]),
                                   'value': items[start:start + self.page_size]}, headers)

    def __call__(self, method, url, **kwargs):
        parts = urlsplit(url)
        path = unquote(parts.path)
        query = parse_qs(urlsplit(url).query)
        query.update(dict((k, [str(v)]) for k, v in (kwargs.get('params') or {}).items()))
        body = kwargs.get('json')
        self.calls.append((method, path, query, body))
        subjects = dict((s['descriptor'], s) for s in self.users + self.groups)
        if path.endswith('/_apis/connectionData'):
            return make_response(200, {'authenticatedUser': self.me, 'instanceId': ORG_ID,
                                       'deploymentType': 'hosted'}, ADO_HEADERS)
        if '/_apis/resourceAreas/' in path:
            return make_response(200, {'locationUrl': 'https://vssps.dev.azure.com/fabrikam/'}, ADO_HEADERS)
        if path.endswith('/_apis/graph/groups'):
            return self._page(self.groups, query)
        if path.endswith('/_apis/graph/users') and method == 'GET':
            return self._page(self.users, query)
        if path.endswith('/_apis/graph/serviceprincipals'):
            return self._page([], query)
        if path.endswith('/_apis/graph/subjectquery'):
            if not self.subject_query:
                return make_response(404, vss_error('not found', 'VssResourceNotFoundException'), ADO_HEADERS)
            found = [s for s in self.users if any((s.get(f) or '').lower().startswith(body['query'].lower())
                                                  for f in ('displayName', 'principalName', 'mailAddress'))]
            return make_response(200, {'count': len(found[:100]), 'value': found[:100]}, ADO_HEADERS)
        if path.endswith('/_apis/graph/subjectlookup'):
            found = dict((k['descriptor'], subjects[k['descriptor']]) for k in body['lookupKeys']
                         if k['descriptor'] in subjects)
            return make_response(200, {'count': len(found), 'value': found}, ADO_HEADERS)
        if '/_apis/graph/descriptors/' in path:
            return make_response(200, {'value': 'aad.me'}, ADO_HEADERS)
        if '/_apis/graph/Memberships/' in path:
            subject = path.rsplit('/', 1)[1]
            if query['direction'] == ['up']:
                value = [{'containerDescriptor': c, 'memberDescriptor': s} for s, c in self.edges if s == subject]
            else:
                value = [{'containerDescriptor': c, 'memberDescriptor': s} for s, c in self.edges if c == subject]
            return make_response(200, {'count': len(value), 'value': value}, ADO_HEADERS)
        if '/_apis/graph/memberships/' in path:
            subject, container = path.rsplit('/', 2)[1:]
            if method == 'HEAD':
                return make_response(200 if (subject, container) in self.edges else 404, '', ADO_HEADERS)
            if method == 'PUT':
                self.edges.add((subject, container))
                return make_response(201, {'containerDescriptor': container, 'memberDescriptor': subject}, ADO_HEADERS)
            if method == 'DELETE':
                self.edges.discard((subject, container))
                return make_response(200, '', ADO_HEADERS)
        if path.endswith('/_apis/graph/users') and method == 'POST':
            user = {'subjectKind': 'user', 'descriptor': 'aad.new', 'principalName': body['principalName'],
                    'origin': 'aad'}
            self.users.append(user)
            self.edges.add(('aad.new', query['groupDescriptors'][0]))
            return make_response(201, user, ADO_HEADERS)
        raise AssertionError('unexpected call %s %s' % (method, url))

    def count(self, fragment, method=None):
        return len([c for c in self.calls if fragment in c[1] and (method is None or c[0] == method)])


def user(name, display=None):
    return {'subjectKind': 'user', 'descriptor': 'aad.' + name.split('@')[0], 'principalName': name,
            'mailAddress': name, 'displayName': display or name, 'origin': 'aad'}


def graph_group(name, sid):
    return {'subjectKind': 'group', 'descriptor': m.graph_group_descriptor(sid), 'principalName': name,
            'displayName': m.split_scoped(name)[1], 'origin': 'vsts',
            'domain': 'vstfs:///Framework/IdentityDomain/%s' % ORG_ID}


PCVU = graph_group('[fabrikam]\\Project Collection Valid Users', PCVU_SID)
PCA = graph_group('[fabrikam]\\Project Collection Administrators', PCA_SID)
TEAM = graph_group('[fabrikam]\\Release Engineers', 'S-1-9-1551374245-1-2-3-4-1-9-9-9-9')
CONTRIB = graph_group('[Fabrikam-Fiber]\\Contributors', 'S-1-9-1551374245-1-2-3-4-1-8-8-8-8')


def graph_setup(client_factory, **kwargs):
    users = kwargs.pop('users', None) or [user('dev@fabrikam.example', 'Dev'), user('me@fabrikam.example', 'Me')]
    users[-1]['descriptor'] = 'aad.me'
    edges = kwargs.pop('edges', None) or [('aad.dev', TEAM['descriptor']), (TEAM['descriptor'], CONTRIB['descriptor']),
                                          (CONTRIB['descriptor'], PCVU['descriptor']), ('aad.me', PCA['descriptor'])]
    fake = FakeGraph(users, [PCVU, PCA, TEAM, CONTRIB], edges, **kwargs)
    client = client_factory([fake])
    data = client.get_connection_data()
    return fake, client, m.open_directory(client, data)


def test_graph_directory_uses_the_resource_area_host_and_pages_groups(client_factory):
    fake, client, directory = graph_setup(client_factory)
    assert directory.api == 'graph'
    assert directory.base == 'https://vssps.dev.azure.com/fabrikam'
    assert len(directory.groups()) == 4
    assert fake.count('/_apis/graph/groups') == 2  # page size 2: two pages through X-MS-ContinuationToken
    assert all(c[1].startswith('/fabrikam/_apis/graph') for c in fake.calls if 'graph' in c[1])
    found = m.converge(directory, 'Project Collection Valid Users', 'dev@fabrikam.example', 'query', True, False,
                       lambda msg: None)
    assert found['is_member'] and not found['direct']
    assert found['path'] == ['dev@fabrikam.example', '[fabrikam]\\Release Engineers', '[Fabrikam-Fiber]\\Contributors',
                             '[fabrikam]\\Project Collection Valid Users']
    assert found['group'] == {'name': PCVU['principalName'], 'descriptor': PCVU['descriptor'], 'sid': PCVU_SID}
    assert found['member'] == {'name': 'dev@fabrikam.example', 'descriptor': 'aad.dev', 'origin': 'aad'}
    # one Memberships request per group on the way up, none repeated
    assert fake.count('/_apis/graph/Memberships/') == 3
    # a second query in the same process reuses the group list and the expansions
    before = len(fake.calls)
    m.converge(directory, 'Project Collection Valid Users', 'dev@fabrikam.example', 'query', True, False, print)
    assert [c[1] for c in fake.calls[before:]] == ['/fabrikam/_apis/graph/subjectquery']


def test_graph_direct_only_costs_one_head(client_factory):
    fake, client, directory = graph_setup(client_factory)
    directory.groups()
    before = len(fake.calls)
    result = m.converge(directory, '[fabrikam]\\Release Engineers', 'dev@fabrikam.example', 'query', False, False, print)
    assert result['is_member'] and result['direct'] and result['path'] == ['dev@fabrikam.example',
                                                                           '[fabrikam]\\Release Engineers']
    assert [c[0] for c in fake.calls[before:]] == ['POST', 'HEAD']
    result = m.converge(directory, 'Project Collection Valid Users', 'dev@fabrikam.example', 'query', False, False,
                        print)
    assert not result['is_member'] and result['path'] == []


def test_graph_member_resolution_pages_users_when_the_subject_query_is_cut(client_factory):
    many = [user('contractor%04d@fabrikam.example' % n, 'Contractor %d' % n) for n in range(1, 250)]
    fake, client, directory = graph_setup(client_factory, users=many + [user('me@fabrikam.example')], page_size=50)
    subject = directory.resolve_member('Contractor 1')
    assert subject.name == 'contractor0001@fabrikam.example'
    assert fake.count('/_apis/graph/subjectquery') == 1
    # 'Contractor 1' prefixes 111 names: the query answer is cut at 100, so the user list decides (250 users, 50 a page)
    assert fake.count('/_apis/graph/users') == 5
    # a unique prefix needs no listing
    fake2, client2, directory2 = graph_setup(client_factory, users=[user('a@x.example'), user('me@x.example')])
    directory2.resolve_member('a@x.example')
    assert fake2.count('/_apis/graph/users') == 0


def test_graph_member_resolution_without_subject_query(client_factory):
    fake, client, directory = graph_setup(client_factory, subject_query=False)
    assert directory.resolve_member('Dev').name == 'dev@fabrikam.example'
    assert fake.count('/_apis/graph/users') == 1


def test_graph_me_through_the_descriptors_api(client_factory):
    fake, client, directory = graph_setup(client_factory, me={'id': 'me-id', 'descriptor': 'x;y'})
    assert directory.resolve_member('@me').key == 'aad.me'
    assert fake.count('/_apis/graph/descriptors/me-id') == 1


def test_graph_present_absent_check_mode_and_diff(client_factory):
    fake, client, directory = graph_setup(client_factory)
    warnings = []
    planned = m.converge(directory, '[Fabrikam-Fiber]\\Contributors', 'dev@fabrikam.example', 'present', True, True,
                         warnings.append)
    assert planned['changed'] and planned['is_member'] and planned['direct']
    assert planned['diff'] == {'before': {'group': CONTRIB['principalName'], 'member': 'dev@fabrikam.example',
                                          'direct_member': False},
                               'after': {'group': CONTRIB['principalName'], 'member': 'dev@fabrikam.example',
                                         'direct_member': True}}
    assert fake.count('/_apis/graph/memberships/', 'PUT') == 0
    done = m.converge(directory, '[Fabrikam-Fiber]\\Contributors', 'dev@fabrikam.example', 'present', True, False,
                      warnings.append)
    assert done['changed'] and fake.count('/_apis/graph/memberships/', 'PUT') == 1
    again = m.converge(directory, '[Fabrikam-Fiber]\\Contributors', 'dev@fabrikam.example', 'present', True, False,
                       warnings.append)
    assert not again['changed']
    # absent: the direct membership goes, the nested one (through Release Engineers) stays, with a warning
    gone = m.converge(directory, '[Fabrikam-Fiber]\\Contributors', 'dev@fabrikam.example', 'absent', True, True,
                      warnings.append)
    assert gone['changed'] and gone['is_member'] and not gone['direct']
    assert gone['path'][1] == '[fabrikam]\\Release Engineers'
    assert 'stays a member' in warnings[-1]
    assert fake.count('/_apis/graph/memberships/', 'DELETE') == 0
    gone = m.converge(directory, '[Fabrikam-Fiber]\\Contributors', 'dev@fabrikam.example', 'absent', True, False,
                      warnings.append)
    assert gone['changed'] and fake.count('/_apis/graph/memberships/', 'DELETE') == 1
    assert not m.converge(directory, '[Fabrikam-Fiber]\\Contributors', 'dev@fabrikam.example', 'absent', True,
                          False, warnings.append)['changed']


def test_graph_refuses_to_remove_the_last_administrator(client_factory):
    fake, client, directory = graph_setup(client_factory)
    with pytest.raises(ModuleFailure, match='Refusing to remove me@fabrikam.example'):
        m.converge(directory, 'Project Collection Administrators', '@me', 'absent', True, False, print)
    assert fake.count('/_apis/graph/memberships/', 'DELETE') == 0
    # with a second administrator it goes
    m.converge(directory, 'Project Collection Administrators', 'dev@fabrikam.example', 'present', True, False, print)
    result = m.converge(directory, 'Project Collection Administrators', '@me', 'absent', True, False, print)
    assert result['changed'] and fake.count('/_apis/graph/memberships/', 'DELETE') == 1


def test_graph_refuses_a_cycle(client_factory):
    fake, client, directory = graph_setup(client_factory)
    with pytest.raises(ModuleFailure, match='would make a cycle'):
        m.converge(directory, '[fabrikam]\\Release Engineers', '[Fabrikam-Fiber]\\Contributors', 'present', True,
                   False, print)


def test_graph_materialises_a_tenant_user(client_factory):
    fake, client, directory = graph_setup(client_factory)
    warnings = []
    planned = m.converge(directory, 'Project Collection Valid Users', 'new@partner.example', 'present', True, True,
                         warnings.append)
    assert planned['changed'] and planned['member']['descriptor'] is None and 'check mode' in warnings[0]
    assert fake.count('/_apis/graph/users', 'POST') == 0
    done = m.converge(directory, 'Project Collection Valid Users', 'new@partner.example', 'present', True, False,
                      warnings.append)
    assert done['changed'] and done['member']['descriptor'] == 'aad.new'
    post = [c for c in fake.calls if c[0] == 'POST' and c[1].endswith('/_apis/graph/users')][0]
    assert post[2]['groupDescriptors'] == [PCVU['descriptor']] and post[3] == {'principalName': 'new@partner.example'}
    with pytest.raises(ModuleFailure, match="Member 'nobody@partner.example' was not found"):
        m.converge(directory, 'Project Collection Valid Users', 'nobody@partner.example', 'query', True, False, print)


@pytest.mark.parametrize('text, message', [
    ('Readerz', "Group 'Readerz' was not found"),
    ('@me', 'names a user'),
    ('aad.MTQ0', 'is not the descriptor or SID of a group'),
])
def test_graph_group_errors(client_factory, text, message):
    fake, client, directory = graph_setup(client_factory)
    with pytest.raises(ModuleFailure, match=message):
        directory.resolve_group(text)


def test_not_found_suggests_close_names(client_factory):
    fake, client, directory = graph_setup(client_factory)
    with pytest.raises(ModuleFailure, match=r'Did you mean: \[fabrikam\]\\Release Engineers\?'):
        directory.resolve_group('[fabrikam]\\Release Engineer')


def test_ambiguous_member(client_factory):
    users = [user('a@x.example', 'Same Name'), user('b@x.example', 'Same Name'), user('me@x.example')]
    fake, client, directory = graph_setup(client_factory, users=users)
    with pytest.raises(ModuleFailure, match="Member 'Same Name' is ambiguous .*: 2 match .*a@x.example.*b@x.example"):
        directory.resolve_member('Same Name')


@pytest.mark.parametrize('status, write, expected', [
    (401, False, 'lacks the scope vso.graph \\(needed to read'),
    (401, True, 'lacks the scope vso.graph_manage \\(needed to change'),
    (403, True, 'Project Collection Administrators'),
])
def test_permission_errors_name_what_is_missing(client_factory, status, write, expected):
    fake, client, directory = graph_setup(client_factory)
    err = AdoHttpError('GET x answered HTTP %d' % status, status=status, headers=ADO_HEADERS)
    failure = directory.explain(err, write)
    assert failure is not None
    assert re.search(expected, failure.msg)
    assert directory.explain(AdoHttpError('x', status=404), False) is None
    assert directory.explain(AdoHttpError('TF400813', status=401, tf_code='TF400813'), False) is None


# --------------------------------------------------------------------------------------------
# Identities directory on a fake transport
# --------------------------------------------------------------------------------------------

def ims_group(name, sid, members=(), member_of=()):
    return {'id': 'id-' + sid[-12:], 'descriptor': 'Microsoft.TeamFoundation.Identity;' + sid, 'isContainer': True,
            'providerDisplayName': name, 'subjectDescriptor': m.graph_group_descriptor(sid),
            'members': list(members), 'memberOf': list(member_of),
            'properties': {'Account': {'$value': m.split_scoped(name)[1]},
                           'Domain': {'$value': 'vstfs:///Framework/IdentityDomain/%s' % ORG_ID}}}


class FakeIms(object):
    def __init__(self):
        self.svc = {'id': 'svc-id', 'descriptor': 'System.Security.Principal.WindowsIdentity;S-1-5-21-7',
                    'providerDisplayName': 'svc-build', 'subjectDescriptor': 'win.c3Zj',
                    'properties': {'Account': {'$value': 'FABRIKAM\\svc-build'}}}
        self.groups = {
            'pcvu': ims_group('[Sammlung]\\Gültige Benutzer der Projektsammlung', PCVU_SID),
            'team': ims_group('[Sammlung]\\Build', 'S-1-9-1551374245-1-2-3-4-1-5-5-5-5'),
        }
        self.edges = {('system.security.principal.windowsidentity;s-1-5-21-7',
                       self.groups['team']['descriptor'].lower()),
                      (self.groups['team']['descriptor'].lower(), self.groups['pcvu']['descriptor'].lower())}
        self.calls = []

    def identities(self):
        return [self.svc] + list(self.groups.values())

    def render(self, item, membership):
        item = dict(item)
        key = item['descriptor'].lower()
        if membership == 'Direct':
            item['memberOf'] = [d for s, d in self.edges if s == key]
            item['members'] = [s for s, d in self.edges if d == key]
        return item

    def __call__(self, method, url, **kwargs):
        path = unquote(urlsplit(url).path)
        params = dict((k, str(v)) for k, v in (kwargs.get('params') or {}).items())
        self.calls.append((method, path, params))
        if path.endswith('/_apis/connectionData'):
            return make_response(200, {'authenticatedUser': self.svc, 'instanceId': ORG_ID,
                                       'deploymentType': 'onPremises'}, ADO_HEADERS)
        if '/_apis/resourceAreas/' in path:
            return make_response(404, vss_error('no area', 'ResourceAreaNotFoundException'), ADO_HEADERS)
        if path.endswith('/_apis/groups'):
            assert params['scopeIds'] == ORG_ID and params['recurse'] == 'true'
            return make_response(200, {'count': 2, 'value': list(self.groups.values())}, ADO_HEADERS)
        if path.endswith('/_apis/identities'):
            membership = params.get('queryMembership')
            if 'descriptors' in params:
                wanted = [d.lower() for d in params['descriptors'].split(',')]
                found = [self.render(i, membership) for i in self.identities() if i['descriptor'].lower() in wanted]
            else:
                value = params['filterValue'].lower()
                found = [self.render(i, membership) for i in self.identities()
                         if value in (i['properties']['Account']['$value'].lower(), i['providerDisplayName'].lower())]
            return make_response(200, {'count': len(found), 'value': found}, ADO_HEADERS)
        if '/members/' in path and method in ('PUT', 'DELETE'):
            return make_response(200, 'true', dict(ADO_HEADERS, **{'Content-Type': 'application/json'}))
        raise AssertionError('unexpected call %s %s' % (method, url))


def test_identities_directory_on_a_localised_server(client_factory):
    fake = FakeIms()
    client = client_factory([fake], url='https://ado.example.com/tfs/Sammlung')
    directory = m.open_directory(client, client.get_connection_data())
    assert directory.api == 'identities' and directory.base == 'https://ado.example.com/tfs/Sammlung'
    result = m.converge(directory, 'Project Collection Valid Users', 'FABRIKAM\\svc-build', 'query', True, False, print)
    assert result['is_member'] and not result['direct']
    assert result['path'] == ['FABRIKAM\\svc-build', '[Sammlung]\\Build',
                              '[Sammlung]\\Gültige Benutzer der Projektsammlung']
    assert result['group']['sid'] == PCVU_SID and result['member']['origin'] == 'ad'
    searches = [c for c in fake.calls if c[1].endswith('/_apis/identities')]
    assert searches[0][2] == {'searchFilter': 'AccountName', 'filterValue': 'FABRIKAM\\svc-build',
                              'queryMembership': 'Direct', 'api-version': '5.0'}
    # the member's groups came with the search; one batched read for the next level
    assert len(searches) == 2 and 'descriptors' in searches[1][2]
    changed = m.converge(directory, 'Project Collection Valid Users', '@me', 'present', True, False, print)
    put = [c for c in fake.calls if c[0] == 'PUT'][0]
    assert changed['changed'] and put[1].endswith('/_apis/identities/%s/members/svc-id'
                                                  % fake.groups['pcvu']['id'])
    assert put[2]['api-version'] == '5.0-preview.1'


# --------------------------------------------------------------------------------------------
# run(): connection failures, input checks
# --------------------------------------------------------------------------------------------

def test_run_reports_a_connection_failure_with_its_diagnosis(monkeypatch, client_factory):
    answer = make_response(401, vss_error("TF400813: The user 'x' is not authorized to access this resource.",
                                          'UnauthorizedRequestException'), ADO_HEADERS)
    client = client_factory([answer])
    monkeypatch.setattr(m, 'client_from_params', lambda params, warn=None: client)
    failed, result = call(m.run, {'url': 'https://dev.azure.com/fabrikam', 'group': 'g', 'member': 'u'}, False,
                          print)
    assert failed and result['diagnosis']['code'] == 'NOT_COLLECTION_MEMBER'
    assert 'ado_group_membership' in result['msg'] and result['requests'] == 1


def test_run_rejects_empty_input():
    failed, result = call(m.run, {'url': 'https://dev.azure.com/fabrikam', 'group': ' ', 'member': 'u'}, False, print)
    assert failed and result['msg'] == 'group must not be empty.'
    failed, result = call(m.run, {'url': 'dev.azure.com/fabrikam', 'group': 'g', 'member': 'u', 'pat': 'x'}, False,
                          print)
    assert failed and 'has no scheme' in result['msg']


def test_run_end_to_end_on_the_fake_graph(monkeypatch, client_factory):
    fake = FakeGraph([user('dev@fabrikam.example'), dict(user('me@fabrikam.example'), descriptor='aad.me')],
                     [PCVU, PCA], [('aad.dev', PCVU['descriptor']), ('aad.me', PCA['descriptor'])])
    client = client_factory([fake])
    monkeypatch.setattr(m, 'client_from_params', lambda params, warn=None: client)
    failed, result = call(m.run, {'url': 'https://dev.azure.com/fabrikam', 'group': 'Project Collection Valid Users',
                                  'member': 'dev@fabrikam.example', 'state': 'query', 'recursive': True}, False, print)
    assert not failed and result['is_member'] and result['api'] == 'graph'
    assert result['requests'] == len(fake.calls) == 5
    assert json.dumps(result)  # plain data only


def test_unexpected_http_errors_are_module_failures(monkeypatch, client_factory):
    fake = FakeGraph([user('me@fabrikam.example')], [PCVU], [])

    def broken(method, url, **kwargs):
        if '/_apis/graph/groups' in url:
            return make_response(500, vss_error('boom', 'Exception'), ADO_HEADERS)
        return fake(method, url, **kwargs)

    client = client_factory([broken], retries=0)
    monkeypatch.setattr(m, 'client_from_params', lambda params, warn=None: client)
    failed, result = call(m.run, {'url': 'https://dev.azure.com/fabrikam', 'group': 'Project Collection Valid Users',
                                  'member': '@me'}, False, print)
    assert failed and result['api'] == 'graph' and 'HTTP 500' in result['msg'] and "'@me'" in result['msg']
