#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the azdo.auth collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: ado_pat
short_description: Create, renew, re-scope and revoke the calling user's own PAT (Azure DevOps Services)
version_added: 0.1.0
description:
  - Keeps one personal access token per O(display_name) for the user the credential belongs to, through the PAT
    lifecycle API (C(_apis/tokens/pats), found on the organization's vssps host through the resource-areas API).
  - The API accepts only a user's Microsoft Entra access token (O(access_token)); a PAT or a service principal gets
    403 and the module says so.
  - O(state=present) - no PAT with that name creates one and writes the secret to O(store) right away (the service
    shows it once); the same scope and not expiring within O(renew_before_days) does nothing; expiring renews it by
    O(renew_strategy); another scope updates it. Two PATs with the same name are refused and listed.
  - O(renew_strategy=regenerate) creates a new PAT, stores it, and only then revokes the old one; a store failure
    leaves the old PAT valid and the new secret in a 0600 recovery file named in the error.
  - O(state=absent) revokes every PAT with that name, and deletes the store entry with O(delete_from_store=true).
  - Logical errors the API reports as HTTP 200 with C(patTokenError) (full-scope or lifespan policy, access denied...)
    fail with a clear message.
  - Runs on the controller (an action plugin).
author:
  - azdo.auth contributors (@azdo-auth)
extends_documentation_fragment:
  - azdo.auth.connection
  - azdo.auth.store.optional
  - azdo.auth.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The PAT's metadata before and after, never the secret.
  idempotent:
    support: full
options:
  display_name:
    description: The PAT's display name, its identity for this module.
    type: str
    required: true
  scope:
    description:
      - Scopes of the PAT, for example V(vso.code) and V(vso.build). V(app_token) (full access) needs O(allow_full_scope).
      - Required with O(state=present).
    type: list
    elements: str
  allow_full_scope:
    description: Allow O(scope=app_token), a full-access PAT.
    type: bool
    default: false
  valid_to:
    description: Expiry date of a new or renewed PAT (ISO 8601). Mutually exclusive with O(valid_days).
    type: str
  valid_days:
    description: Validity of a new or renewed PAT in days from now (default 30).
    type: int
  state:
    description: V(present) keeps the PAT; V(absent) revokes every PAT with that name.
    type: str
    default: present
    choices: [present, absent]
  renew_before_days:
    description: Renew when the PAT expires within this many days.
    type: int
    default: 7
  renew_strategy:
    description:
      - V(extend) moves the expiry (same secret; what a user can do for their own PAT).
      - V(regenerate) creates a new PAT, stores it, then revokes the old one.
    type: str
    default: extend
    choices: [extend, regenerate]
  name:
    description: Entry name in O(store). O(store) and O(name) are required when a new secret is created.
    type: str
  delete_from_store:
    description: With O(state=absent), also delete the store entry.
    type: bool
    default: false
  recovery_dir:
    description: Directory for the recovery file when the store write fails (default the playbook directory).
    type: path
notes:
  - Azure DevOps Server has no PAT lifecycle API; the module says so.
seealso:
  - module: azdo.auth.ado_pat_info
  - module: azdo.auth.ado_oauth_token
'''

EXAMPLES = r'''
- name: Keep the pipeline PAT, renewed a week before it expires, secret in the token file
  azdo.auth.ado_pat:
    url: https://dev.azure.com/fabrikam
    access_token: "{{ lookup('azdo.auth.ado_token', 'my-entra-user-token') }}"
    display_name: pipeline-build
    scope: [vso.code, vso.build]
    valid_days: 30
    store: {path: group_vars/all/tokens.vault.yml}
    name: pipeline-build-pat

- name: Revoke it
  azdo.auth.ado_pat:
    url: https://dev.azure.com/fabrikam
    access_token: "{{ lookup('azdo.auth.ado_token', 'my-entra-user-token') }}"
    display_name: pipeline-build
    state: absent
'''

RETURN = r'''
action:
  description: What was done (or would be, in check mode).
  returned: always
  type: str
  sample: extended
  choices: [created, extended, regenerated, scope_updated, revoked, none]
pat:
  description: The PAT's metadata after the task (never the secret).
  returned: always
  type: dict
  contains:
    authorization_id:
      description: Authorization id.
      type: str
    display_name:
      description: Display name.
      type: str
    scope:
      description: Scopes, sorted.
      type: list
      elements: str
    valid_from:
      description: Start of validity.
      type: str
    valid_to:
      description: Expiry.
      type: str
    target_accounts:
      description: Organization ids the PAT is valid for (null for all).
      type: list
      elements: str
stored:
  description: Whether the secret is in the store.
  returned: always
  type: bool
fingerprint:
  description: Fingerprint of the stored secret (first 12 hex of SHA-256).
  returned: always
  type: str
requests:
  description: HTTP round trips spent.
  returned: always
  type: int
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.azdo.auth.plugins.module_utils._pat import MODULE_SPEC, run
from ansible_collections.azdo.auth.plugins.module_utils._runner import execute


def main():
    module = AnsibleModule(supports_check_mode=True, **MODULE_SPEC)
    execute(module, run)


if __name__ == '__main__':
    main()
