# -*- coding: utf-8 -*-
# Copyright: contributors to the azdo.auth collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
name: ado_token
short_description: Read an Azure DevOps credential from a token store
version_added: 0.1.0
author:
  - azdo.auth contributors (@azdo-auth)
description:
  - Returns the main secret (C(value), or C(access_token)) of each named entry of a token store written by
    M(azdo.auth.ado_token_store) or M(azdo.auth.ado_oauth_token).
  - Use O(field) for another field, or V(all) for the whole entry.
  - The store comes from O(store), or from O(backend) and O(path), which can be set once in C(ansible.cfg) or the
    environment so playbooks stay short.
options:
  _terms:
    description: Names of the entries to read.
    required: true
    type: list
    elements: str
  store:
    description:
      - The store, with the suboptions documented for the C(store) option of M(azdo.auth.ado_token_store)
        (C(backend), C(path), C(vault_id), C(url), C(mount_point), C(auth_method), C(token), C(vault_url), ...).
      - Keys given here win over O(backend) and O(path).
    type: dict
  backend:
    description: The store backend when O(store) does not say.
    type: str
    default: ansible_vault
    choices: [ansible_vault, hashicorp_vault, azure_key_vault]
    env:
      - name: AZDO_AUTH_STORE_BACKEND
    ini:
      - section: azdo_auth
        key: store_backend
  path:
    description: The file (V(ansible_vault)) or the path prefix (V(hashicorp_vault)) when O(store) does not say.
    type: str
    env:
      - name: AZDO_AUTH_STORE_PATH
    ini:
      - section: azdo_auth
        key: store_path
  field:
    description:
      - The field to return. V(value) returns the main secret (C(value), or C(access_token) for token pairs).
      - Any entry field (C(refresh_token), C(expires_at), C(fingerprint), ...) or V(all) for the whole entry.
    type: str
    default: value
  default:
    description: Returned when the entry (or the field) does not exist, instead of failing.
    type: raw
notes:
  - The returned secret is sensitive; use C(no_log) on tasks that print or pass it.
  - The V(ansible_vault) store decrypts with the vault secrets the controller loaded.
seealso:
  - module: azdo.auth.ado_token_store
'''

EXAMPLES = r'''
- name: Check the stored PAT
  azdo.auth.ado_pat_check:
    url: https://dev.azure.com/fabrikam
    pat: "{{ lookup('azdo.auth.ado_token', 'pipeline-pat', store={'path': 'group_vars/all/tokens.vault.yml'}) }}"

- name: Use an access token kept in HashiCorp Vault (VAULT_ADDR and VAULT_TOKEN from the environment)
  azdo.auth.ado_pat_check:
    url: https://dev.azure.com/fabrikam
    access_token: "{{ lookup('azdo.auth.ado_token', 'ado-automation', backend='hashicorp_vault', path='azure-devops') }}"

- name: When does it expire?
  ansible.builtin.debug:
    msg: "{{ lookup('azdo.auth.ado_token', 'ado-automation', field='expires_at', default='unknown') }}"
'''

RETURN = r'''
_raw:
  description: One value per term; the main secret by default, the requested field, or the whole entry for V(all).
  type: list
  elements: raw
'''

import json

from ansible.errors import AnsibleLookupError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.lookup import LookupBase

from ansible_collections.azdo.auth.plugins.module_utils._stores import STORE_OPTIONS, StoreError, main_secret, open_store
from ansible_collections.azdo.auth.plugins.plugin_utils._vault import AnsibleVaultCipher

_MISSING = object()


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        spec = dict(self.get_option('store') or {})
        spec.setdefault('backend', self.get_option('backend'))
        if self.get_option('path') and not spec.get('path'):
            spec['path'] = self.get_option('path')
        validation = ArgumentSpecValidator(STORE_OPTIONS).validate(spec)
        if validation.error_messages:
            raise AnsibleLookupError('azdo.auth.ado_token: invalid store: %s' % '; '.join(validation.error_messages))
        spec = json.loads(json.dumps(validation.validated_parameters))  # plain types, no data tags
        field = self.get_option('field')
        default = self.get_option('default') if 'default' in kwargs else _MISSING
        try:
            cipher = None
            if spec['backend'] == 'ansible_vault':
                vault = getattr(self._loader, '_vault', None)
                cipher = AnsibleVaultCipher(getattr(vault, 'secrets', None), spec.get('vault_id'))
            store = open_store(spec, vault_cipher=cipher, basedir=self._loader.get_basedir())
            values = []
            for term in terms:
                entry = store.get(str(term))
                values.append(self._pick(store, str(term), entry, field, default))
            return values
        except StoreError as err:
            raise AnsibleLookupError('azdo.auth.ado_token: %s' % err)

    @staticmethod
    def _pick(store, name, entry, field, default):
        if entry is None:
            if default is not _MISSING:
                return default
            raise AnsibleLookupError('azdo.auth.ado_token: no entry %r in the %s store %s (pass default= to allow it).'
                                     % (name, store.backend, store.location()))
        if field == 'all':
            return entry
        value = main_secret(entry) if field == 'value' else entry.get(field)
        if value is None:
            if default is not _MISSING:
                return default
            raise AnsibleLookupError('azdo.auth.ado_token: entry %r has no field %r (fields: %s).'
                                     % (name, field, ', '.join(sorted(entry))))
        return value
