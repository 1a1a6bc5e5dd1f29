#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the azdo.auth collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: ado_token_info
short_description: Tell how fresh the credentials in a token store are, without reading out a secret
version_added: 0.1.0
description:
  - For each named entry of a token store written by M(azdo.auth.ado_token_store) or M(azdo.auth.ado_oauth_token),
    returns whether it exists, its fingerprint, expiry, last update, age, labels and backend version.
  - Never returns a secret - use it, rather than the P(azdo.auth.ado_token#lookup) lookup with C(field=all), to audit
    token freshness.
  - Read-only; nothing is written, locked or renewed. Runs on the controller (an action plugin), so it can use the
    vault secrets the controller loaded; nothing is sent to the target host.
author:
  - azdo.auth contributors (@azdo-auth)
extends_documentation_fragment:
  - azdo.auth.store
  - azdo.auth.attributes
attributes:
  check_mode:
    support: full
    details: Read-only; runs the same in check mode.
  diff_mode:
    support: none
  idempotent:
    support: full
  action_group:
    support: none
    membership: []
options:
  names:
    description:
      - Names of the entries to describe (letters, digits, C(.), C(_), C(-)).
      - A name that is not in the store is reported with RV(tokens[].exists=false); it is not an error.
    type: list
    elements: str
    required: true
    aliases: [name]
seealso:
  - module: azdo.auth.ado_token_store
  - module: azdo.auth.ado_oauth_token
  - plugin: azdo.auth.ado_token
    plugin_type: lookup
'''

EXAMPLES = r'''
- name: How fresh are the automation tokens in HashiCorp Vault?
  azdo.auth.ado_token_info:
    store:
      backend: hashicorp_vault
      url: https://vault.example.com:8200
      path: azure-devops
    names: [deploy-sp, legacy-automation]
  register: stored

- name: Warn about tokens that expire within a day
  ansible.builtin.debug:
    msg: "{{ item.name }} ({{ item.fingerprint }}) expires at {{ item.expires_at }}"
  loop: "{{ stored.tokens | selectattr('exists') | selectattr('expires_in', 'ne', none) | selectattr('expires_in', 'lt', 86400) }}"
  loop_control:
    label: "{{ item.name }}"

- name: The entries of the project's encrypted token file
  azdo.auth.ado_token_info:
    store:
      path: group_vars/all/tokens.vault.yml
    names: pipeline-pat
'''

RETURN = r'''
store:
  description: The store that was read.
  returned: success
  type: dict
  contains:
    backend:
      description: The backend.
      type: str
      sample: hashicorp_vault
    location:
      description: Where the store is (file path, Vault address with mount and path, or Key Vault URL); never a secret.
      type: str
      sample: https://vault.example.com:8200 secret/azure-devops
tokens:
  description: One entry per name of O(names), in the same order.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: The entry name.
      type: str
      sample: deploy-sp
    exists:
      description: Whether the store holds the entry. The other fields are null (or empty) when it does not.
      type: bool
      sample: true
    fingerprint:
      description: First 12 hex characters of the SHA-256 of the main secret.
      type: str
      sample: 3f1a9c0b7d2e
    expires_at:
      description: Expiry of the stored credential (ISO 8601, UTC), when known.
      type: str
      sample: "2026-11-24T09:15:00Z"
    updated_at:
      description: When the entry was last written (ISO 8601, UTC).
      type: str
      sample: "2026-11-24T08:15:00Z"
    age:
      description: Seconds since RV(tokens[].updated_at).
      type: int
      sample: 1800
    expires_in:
      description: Seconds until RV(tokens[].expires_at), negative once expired; null when the expiry is unknown.
      type: int
      sample: 1800
    is_expired:
      description: Whether the credential has expired; null when the expiry is unknown.
      type: bool
      sample: false
    labels:
      description: The labels stored with the entry.
      type: dict
      sample: {"owner": "platform-team"}
    version:
      description: The KV version or Key Vault version of the entry; null for the Ansible Vault file store.
      type: raw
      sample: 4
    token_type:
      description: Token type stored with the entry, when known.
      type: str
      sample: Bearer
    scope:
      description: Scope stored with the entry, when known.
      type: str
      sample: 499b84ac-1321-427f-aa17-267ca6975798/.default
    fields:
      description: Names of the secret fields the entry holds (not their values).
      type: list
      elements: str
      sample: [access_token, refresh_token]
missing:
  description: Names of O(names) that are not in the store.
  returned: success
  type: list
  elements: str
  sample: []
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.azdo.auth.plugins.module_utils._runner import execute
from ansible_collections.azdo.auth.plugins.module_utils._token_info import MODULE_SPEC, run


def main():
    module = AnsibleModule(supports_check_mode=True, **MODULE_SPEC)
    execute(module, run)


if __name__ == '__main__':
    main()
