# -*- coding: utf-8 -*-
# Copyright: contributors to the azdo.auth collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Argument specs shared by the API modules, defined once (documented in doc_fragments/connection.py)."""

from __future__ import annotations

import copy
import os

from ansible.module_utils.basic import env_fallback

from ansible_collections.azdo.auth.plugins.module_utils._client import AUTH_METHODS, AdoClient, AdoConfigError

CONNECTION_ARGSPEC = dict(
    url=dict(type='str', required=True, aliases=['organization_url', 'collection_url'], fallback=(env_fallback, ['AZDO_URL'])),
    # AZURE_DEVOPS_EXT_PAT / SYSTEM_ACCESSTOKEN apply only when no credential is given (client_from_params):
    # an argspec fallback would fill pat next to an explicit access_token and make them conflict.
    pat=dict(type='str', no_log=True),
    access_token=dict(type='str', no_log=True),
    auth_method=dict(type='str', choices=list(AUTH_METHODS)),
    username=dict(type='str'),
    password=dict(type='str', no_log=True),
    validate_certs=dict(type='bool', default=True),
    ca_path=dict(type='path'),
    timeout=dict(type='int', default=30),
    retries=dict(type='int', default=3),
    retry_max_delay=dict(type='int', default=60),
    api_version=dict(type='str'),
    allow_http=dict(type='bool', default=False),
)


def connection_spec(**module_options):
    """argument_spec = the connection options + the module's own."""
    spec = copy.deepcopy(CONNECTION_ARGSPEC)
    spec.update(module_options)
    return spec


def client_from_params(params, warn=None):
    """An AdoClient from validated module parameters (raises AdoConfigError on bad values)."""
    if params.get('timeout') is not None and params['timeout'] <= 0:
        raise AdoConfigError('timeout must be a positive number of seconds.')
    if params.get('retries') is not None and not 0 <= params['retries'] <= 10:
        raise AdoConfigError('retries must be between 0 and 10.')
    pat, access_token = params.get('pat'), params.get('access_token')
    if not pat and not access_token and not params.get('username'):
        pat = os.environ.get('AZURE_DEVOPS_EXT_PAT') or None
        if not pat:
            access_token = os.environ.get('SYSTEM_ACCESSTOKEN') or None
    return AdoClient(
        params.get('url'), pat=pat, access_token=access_token,
        auth_method=params.get('auth_method'), username=params.get('username'), password=params.get('password'),
        validate_certs=params.get('validate_certs', True), ca_path=params.get('ca_path'),
        timeout=params.get('timeout') or 30, retries=params.get('retries', 3),
        retry_max_delay=params.get('retry_max_delay') or 60, api_version=params.get('api_version'),
        allow_http=params.get('allow_http', False), warn=warn)
