#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the azdo.auth collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: ado_pat_info
short_description: PAT inventory of a user or of the whole organization (Azure DevOps Services)
version_added: 0.1.0
description:
  - Lists personal access tokens with who holds them, their scopes and expiry, and a summary of expired, expiring,
    full-scoped and long-lived (valid more than 90 days) tokens. Never returns a secret.
  - O(owner=me) reads the caller's PATs (lifecycle API; needs a user's Microsoft Entra access token).
  - O(owner=all) or a list of users lists the organization's users (Graph, continuation-token paging) and reads each
    user's PATs from the Token Admin API concurrently (O(concurrency) workers over one client; a 429 makes all of them
    wait C(Retry-After)). Needs an organization administrator. Results are sorted by owner, name and id.
  - Read-only; runs on the controller (an action plugin).
author:
  - azdo.auth contributors (@azdo-auth)
extends_documentation_fragment:
  - azdo.auth.connection
  - azdo.auth.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  idempotent:
    support: full
options:
  owner:
    description: V(me), V(all), or a list of user principal names.
    type: raw
    default: me
  expiring_within_days:
    description: A token that expires within this many days counts as expiring in RV(summary).
    type: int
    default: 30
  include_revoked:
    description: Include revoked tokens (Token Admin).
    type: bool
    default: false
  concurrency:
    description: Users whose tokens are read at the same time (1 to 32).
    type: int
    default: 8
  page_size:
    description: Tokens per Token Admin page (1 to 1000).
    type: int
    default: 100
notes:
  - Azure DevOps Server is refused with a clear message in this version.
'''

EXAMPLES = r'''
- name: Organization-wide PAT inventory for the audit
  azdo.auth.ado_pat_info:
    url: https://dev.azure.com/fabrikam
    access_token: "{{ lookup('azdo.auth.ado_token', 'org-admin-token') }}"
    owner: all
    expiring_within_days: 14
  register: inventory

- name: Who holds full-access tokens?
  ansible.builtin.debug:
    msg: "{{ inventory.tokens | selectattr('is_full_scope') | map(attribute='owner.unique_name') | unique }}"
'''

RETURN = r'''
tokens:
  description: One entry per token, sorted by owner, display name and authorization id.
  returned: always
  type: list
  elements: dict
  sample: [{"owner": {"display_name": "Automation Admin", "unique_name": "admin@fabrikam.example", "descriptor": "aad.x"},
            "display_name": "ci", "scope": ["vso.code"], "valid_from": "2026-11-01T00:00:00Z",
            "valid_to": "2026-12-01T00:00:00Z", "expires_in_days": 7, "is_full_scope": false, "is_expired": false,
            "is_revoked": false, "long_lived": false, "authorization_id": "6f1c..."}]
summary:
  description: Counts of C(total), C(expired), C(expiring), C(full_scope), C(long_lived), and C(by_owner).
  returned: always
  type: dict
  sample: {"total": 3, "expired": 1, "expiring": 1, "full_scope": 1, "long_lived": 0, "by_owner": {"admin@fabrikam.example": 3}}
requests:
  description: HTTP round trips spent.
  returned: always
  type: int
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.azdo.auth.plugins.module_utils._pat_info import MODULE_SPEC, run
from ansible_collections.azdo.auth.plugins.module_utils._runner import execute


def main():
    module = AnsibleModule(supports_check_mode=True, **MODULE_SPEC)
    execute(module, run)


if __name__ == '__main__':
    main()
