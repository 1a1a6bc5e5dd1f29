#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the azdo.auth collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: ado_token_store
short_description: Keep an Azure DevOps credential in a vault, idempotently
version_added: 0.1.0
description:
  - Puts a credential (a PAT, an access/refresh token pair, a client secret) with its metadata into a token store,
    or removes it.
  - Writes only when something other than C(updated_at) differs from what is stored, so a re-run creates no new
    file content, KV version or Key Vault version.
  - Runs on the controller (an action plugin), so it can use the vault secrets the controller loaded and hold a
    lock shared by all forks; nothing is sent to the target host.
  - Read the credential back with the P(azdo.auth.ado_token#lookup) lookup.
author:
  - azdo.auth contributors (@azdo-auth)
extends_documentation_fragment:
  - azdo.auth.store
  - azdo.auth.attributes
attributes:
  check_mode:
    support: full
    details: Reads the store and predicts RV(ignore:changed) without writing.
  diff_mode:
    support: full
    details: Shows fingerprints and metadata before and after, never a secret.
  idempotent:
    support: full
  action_group:
    support: none
    membership: []
options:
  name:
    description:
      - Name of the entry in the store (letters, digits, C(.), C(_), C(-)).
    type: str
    required: true
  secret:
    description:
      - The credential. A string is stored as the C(value) field.
      - A mapping may hold the secret fields C(value), C(access_token), C(refresh_token), C(client_secret), C(id_token),
        and metadata fields (see O(metadata)).
      - Required with O(state=present).
    type: raw
  metadata:
    description:
      - Plain metadata kept beside the secret, C(token_type), C(scope), C(expires_at) (ISO 8601; stored in UTC) and
        C(labels) (a mapping of strings). C(fingerprint) and C(updated_at) are set by the module.
    type: dict
    default: {}
  state:
    description:
      - V(present) stores the entry; V(absent) deletes it.
    type: str
    default: present
    choices: [present, absent]
notes:
  - Ansible Vault ciphertext is salted, so the file store compares decrypted content, not bytes.
seealso:
  - plugin: azdo.auth.ado_token
    plugin_type: lookup
'''

EXAMPLES = r'''
- name: Keep the pipeline PAT in the project's encrypted token file
  azdo.auth.ado_token_store:
    store:
      path: group_vars/all/tokens.vault.yml
    name: pipeline-pat
    secret: "{{ new_pat }}"
    metadata:
      scope: vso.code vso.build
      expires_at: "2026-12-31T23:59:59Z"
      labels:
        owner: platform-team

- name: Keep an access/refresh token pair in HashiCorp Vault (token from VAULT_TOKEN)
  azdo.auth.ado_token_store:
    store:
      backend: hashicorp_vault
      url: https://vault.example.com:8200
      mount_point: secret
      path: azure-devops
    name: ado-automation
    secret:
      access_token: "{{ oauth.access_token }}"
      refresh_token: "{{ oauth.refresh_token }}"
    metadata:
      token_type: Bearer
      expires_at: "{{ oauth.expires_at }}"

- name: Keep a PAT in Azure Key Vault with the workload identity of the pipeline
  azdo.auth.ado_token_store:
    store:
      backend: azure_key_vault
      vault_url: https://kv-platform.vault.azure.net
    name: pipeline-pat
    secret: "{{ new_pat }}"

- name: Remove an entry
  azdo.auth.ado_token_store:
    store:
      path: group_vars/all/tokens.vault.yml
    name: old-pat
    state: absent
'''

RETURN = r'''
store:
  description: Where the entry is.
  returned: always
  type: dict
  contains:
    backend:
      description: The backend.
      type: str
      sample: hashicorp_vault
    name:
      description: The entry name.
      type: str
      sample: ado-automation
    version:
      description: The KV version or Key Vault secret version after the task; null for the file store and after a delete.
      type: raw
      sample: 3
fingerprint:
  description: First 12 hex characters of the SHA-256 of the main secret (value, or access_token); null after a delete.
  returned: always
  type: str
  sample: 3f1a9c0b7d2e
expires_at:
  description: Expiry of the stored credential (ISO 8601, UTC), when known.
  returned: always
  type: str
  sample: "2026-12-31T23:59:59Z"
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.azdo.auth.plugins.module_utils._runner import execute
from ansible_collections.azdo.auth.plugins.module_utils._token_store import MODULE_SPEC, run


def main():
    module = AnsibleModule(supports_check_mode=True, **MODULE_SPEC)
    execute(module, run)


if __name__ == '__main__':
    main()
