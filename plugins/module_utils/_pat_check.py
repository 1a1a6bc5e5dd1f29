# -*- coding: utf-8 -*-
# Copyright: contributors to the azdo.auth collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Logic of azdo.auth.ado_pat_check: will this credential work against this collection, and if not, why.

A validity check costs one request (connectionData); the project check and each scope probe one
more. Probes on another host (packaging, identities, release in the cloud) first look the host up
through the resource-areas API, once per run.
"""

from __future__ import annotations

import concurrent.futures

try:
    from urllib.parse import quote
except ImportError:  # pragma: no cover
    pass

from ansible_collections.azdo.auth.plugins.module_utils._argspec import client_from_params, connection_spec
from ansible_collections.azdo.auth.plugins.module_utils._client import (
    AREA_IDENTITIES, AREA_PACKAGING, AREA_RELEASE, AdoConfigError, AdoError, product_for)
from ansible_collections.azdo.auth.plugins.module_utils._diagnosis import classify, describe, diagnose, failure_message
from ansible_collections.azdo.auth.plugins.module_utils._runner import ModuleFailure


class Probe(object):
    """One cheap read call that needs exactly one scope."""

    def __init__(self, path, version, params=None, area=None, project=False):
        self.path = path
        self.version = version
        self.params = params or {}
        self.area = area
        self.project = project


SCOPE_PROBES = {
    'vso.project': Probe('_apis/projects', '7.1', {'$top': 1}),
    'vso.code': Probe('_apis/git/repositories', '7.1'),
    'vso.build': Probe('_apis/build/resourceusage', '7.1-preview.2'),
    'vso.work': Probe('_apis/wit/fields', '7.1'),
    'vso.packaging': Probe('_apis/packaging/feeds', '7.1', area=AREA_PACKAGING),
    'vso.identity': Probe('_apis/identities', '7.1', {'identityIds': '{user_id}'}, area=AREA_IDENTITIES),
    'vso.release': Probe('{project}/_apis/release/definitions', '7.1', {'$top': 1}, area=AREA_RELEASE, project=True),
    'vso.variablegroups_read': Probe('{project}/_apis/distributedtask/variablegroups', '7.1', {'$top': 1},
                                     project=True),
    'vso.serviceendpoint': Probe('{project}/_apis/serviceendpoint/endpoints', '7.1', project=True),
    'vso.agentpools': Probe('_apis/distributedtask/pools', '7.1'),
}

MODULE_SPEC = dict(
    argument_spec=connection_spec(
        required_scopes=dict(type='list', elements='str', default=[], choices=list(SCOPE_PROBES)),
        project=dict(type='str'),
        fail_on_invalid=dict(type='bool', default=True),
        credentials=dict(type='list', elements='dict', options=dict(
            name=dict(type='str', required=True),
            pat=dict(type='str', no_log=True),
            access_token=dict(type='str', no_log=True),
            url=dict(type='str'),
            required_scopes=dict(type='list', elements='str', choices=list(SCOPE_PROBES)),
            project=dict(type='str'),
        ), mutually_exclusive=[('pat', 'access_token')], required_one_of=[('pat', 'access_token')]),
        concurrency=dict(type='int', default=8),
    ),
    mutually_exclusive=[('pat', 'access_token')],
)
MAX_CONCURRENCY = 32

_ANONYMOUS_DESCRIPTORS = ('microsoft.teamfoundation.unauthenticatedidentity', 'system:publicaccess')


def validate_scopes(required_scopes, project):
    """Normalised scope list; AdoConfigError for unknown scopes or project probes without project."""
    scopes = []
    for scope in required_scopes or []:
        scope = str(scope).strip()
        if scope not in SCOPE_PROBES:
            raise AdoConfigError('required_scopes: %r has no probe; known scopes are %s.'
                                 % (scope, ', '.join(sorted(SCOPE_PROBES))))
        if SCOPE_PROBES[scope].project and not project:
            raise AdoConfigError('required_scopes: %s is checked inside a project; set project.' % scope)
        if scope not in scopes:
            scopes.append(scope)
    return scopes


def _user(identity):
    if not identity:
        return None
    account = (identity.get('properties') or {}).get('Account') or {}
    return {
        'id': identity.get('id'),
        'display_name': identity.get('customDisplayName') or identity.get('providerDisplayName'),
        'unique_name': account.get('$value') if isinstance(account, dict) else None,
        'descriptor': identity.get('descriptor') if isinstance(identity.get('descriptor'), str)
        else identity.get('subjectDescriptor'),
    }


def check_credential(client, required_scopes=(), project=None):
    """The result dict of ado_pat_check for one client. Never raises for remote failures."""
    auth = dict(auth_method=client.auth_method, token_hint=client.token_hint)
    result = {
        'url': client.url,
        'valid': False,
        'authenticated_user': None,
        'deployment_type': None,
        'server': {'api_version': None, 'product': None, 'instance_id': None},
        'scopes': {},
        'project': None,
        'diagnosis': None,
    }

    def finish(diagnosis):
        data = client.connection_data or {}
        result['diagnosis'] = diagnosis
        result['valid'] = diagnosis['code'] == 'OK'
        result['server']['api_version'] = client.server_api_version
        result['server']['product'] = product_for(data.get('deploymentType'), client.server_api_version) \
            if data else None
        result['requests'] = client.request_count
        return result

    try:
        data = client.get_connection_data()
    except AdoError as err:
        return finish(diagnose(err, 'connect', **auth))

    identity = data.get('authenticatedUser') or {}
    result['authenticated_user'] = _user(identity)
    result['deployment_type'] = data.get('deploymentType')
    result['server']['instance_id'] = data.get('instanceId')
    descriptor = str(identity.get('descriptor') or '').lower()
    if not identity.get('id') or descriptor.startswith(_ANONYMOUS_DESCRIPTORS):
        return finish(describe('ANONYMOUS_REDIRECT', http_status=200,
                               detail='connectionData answered for an anonymous identity.'))
    if data.get('deploymentType') == 'onPremises' and data.get('instanceId') \
            and data.get('instanceId') == data.get('deploymentId'):
        return finish(describe('COLLECTION_NOT_FOUND', http_status=200,
                               detail='%s is the server itself (deployment level); add the collection name, '
                                      'for example %s/DefaultCollection.' % (client.url, client.url)))

    if project:
        try:
            found = client.get('_apis/projects/%s' % quote(project, safe=''), api_version='7.1') or {}
            result['project'] = {'id': found.get('id'), 'name': found.get('name')}
        except AdoError as err:
            return finish(diagnose(err, 'project', project=project, scopes=['vso.project'], **auth))

    missing = []
    fields = {'project': quote(project or '', safe=''), 'user_id': result['authenticated_user']['id']}
    for scope in required_scopes:
        probe = SCOPE_PROBES[scope]
        try:
            base = client.area_url(probe.area) if probe.area else None
            params = dict((k, str(v).format(**fields)) for k, v in probe.params.items())
            client.get(probe.path.format(**fields), params=params, api_version=probe.version, base_url=base)
            result['scopes'][scope] = True
        except AdoError as err:
            code = classify(err.kind, status=err.status, tf_code=err.tf_code, type_key=err.type_key,
                            has_ado_headers=err.has_ado_headers, www_authenticate=err.www_authenticate,
                            stage='scope', **auth)
            if code != 'MISSING_SCOPE':
                return finish(diagnose(err, 'scope', scopes=[scope], **auth))
            result['scopes'][scope] = False
            missing.append(scope)
    if missing:
        return finish(describe('MISSING_SCOPE', http_status=401, scopes=missing))
    return finish(describe('OK', http_status=200))


def run(params, check_mode, warn):
    """ado_pat_check: read-only, so check mode runs the same checks."""
    if params.get('credentials'):
        return run_many(params, warn)
    try:
        scopes = validate_scopes(params.get('required_scopes'), params.get('project'))
        client = client_from_params(params, warn=warn)
    except AdoConfigError as err:
        raise ModuleFailure(str(err))
    result = check_credential(client, scopes, params.get('project'))
    result['changed'] = False
    if not result['valid'] and params.get('fail_on_invalid', True):
        raise ModuleFailure(failure_message('Credential check against %s failed' % client.url, result['diagnosis']),
                            **result)
    return result


def run_many(params, warn):
    """Check a list of credentials concurrently (bounded): one task instead of a loop of many."""
    concurrency = 8 if params.get('concurrency') is None else params['concurrency']
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise ModuleFailure('concurrency must be between 1 and %d.' % MAX_CONCURRENCY)
    jobs = []
    for item in params['credentials']:
        try:
            project = item.get('project') or params.get('project')
            scopes = validate_scopes(item.get('required_scopes') if item.get('required_scopes') is not None
                                     else params.get('required_scopes'), project)
            item_params = dict(params, url=item.get('url') or params.get('url'), pat=item.get('pat'),
                               access_token=item.get('access_token'))
            client = client_from_params(item_params, warn=warn)
        except AdoConfigError as err:
            raise ModuleFailure('credentials[%s]: %s' % (item['name'], err))
        jobs.append((item['name'], client, scopes, project))

    def check(job):
        name, client, scopes, project = job
        result = check_credential(client, scopes, project)
        result['name'] = name
        return result

    with concurrent.futures.ThreadPoolExecutor(max_workers=min(concurrency, len(jobs))) as pool:
        results = list(pool.map(check, jobs))
    by_code = {}
    for result in results:
        by_code[result['diagnosis']['code']] = by_code.get(result['diagnosis']['code'], 0) + 1
    invalid = [r['name'] for r in results if not r['valid']]
    outcome = {
        'changed': False,
        'valid': not invalid,
        'results': results,
        'summary': {'total': len(results), 'valid': len(results) - len(invalid), 'invalid': len(invalid),
                    'by_code': by_code},
        'requests': sum(r['requests'] for r in results),
    }
    if invalid and params.get('fail_on_invalid', True):
        raise ModuleFailure('%d of %d credentials are not valid: %s. See results[].diagnosis for the cause and fix of each.'
                            % (len(invalid), len(results), ', '.join(invalid[:20])), **outcome)
    return outcome
