#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the azdo.auth collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: ado_group_membership
short_description: Check, report or fix who is in which Azure DevOps collection group
version_added: 0.1.0
description:
  - Answers "is this identity in this group of the collection", directly or through other groups, and adds or
    removes the direct membership.
  - C(TF400813 ... is not authorized to access this resource) means the identity is in no group of the collection
    (it is not in Project Collection Valid Users). Adding it to any group of the collection, such as a project's
    Contributors or Readers, fixes it. Automation accounts usually also need specific groups, such as
    Project Collection Build Service Accounts.
  - On Azure DevOps Services the Graph API is used; its host is found through the resource-areas API, as the
    official clients do. On Azure DevOps Server and TFS the Identities API of the collection is used. The
    deployment type reported by C(_apis/connectionData) decides; no option is needed.
  - Well-known collection groups are recognised by their SID, not by their name, so V(Project Collection Valid Users),
    V(Project Collection Administrators) and V(Project Collection Service Accounts) also find the translated
    groups of a server installed in another language.
  - Nested membership is searched upwards from the member, one request per group the member is in (one per level
    of groups on premises); a group with thousands of members costs no more than a small one.
  - Runs on the controller (an action plugin), whatever host the task runs for.
author:
  - azdo.auth contributors (@azdo-auth)
extends_documentation_fragment:
  - azdo.auth.connection
  - azdo.auth.attributes
attributes:
  check_mode:
    support: full
    details: Nothing is changed; RV(ignore:changed) and RV(diff) predict what a real run would do.
  diff_mode:
    support: full
    details: The direct membership before and after.
  idempotent:
    support: full
options:
  group:
    description:
      - The group, written as one of
      - a display name, such as V(Project Collection Valid Users) or V(Contributors) (an error lists the matches
        when several groups of the collection have this name);
      - a scoped name V([Scope]\\Name), such as V([DefaultCollection]\\Project Collection Build Service Accounts)
        or V([MyProject]\\Contributors) (the scope is the collection, the organization or a project);
      - a SID (V(S-1-9-1551374245-...)) or a descriptor (V(vssgp.Uy0x...), V(Microsoft.TeamFoundation.Identity;S-1-9-...)).
    type: str
    required: true
  member:
    description:
      - The user, service principal or group whose membership is checked or changed, written as a UPN or e-mail
        address, V(DOMAIN\\name) (Azure DevOps Server), a display name, a group name (as O(group)), a descriptor
        (V(aad.xxx), V(aadsp.xxx), V(vssgp.xxx), or an identity descriptor on premises), or V(@me) for the identity
        the credential belongs to.
      - On Azure DevOps Services a user of the organization's Microsoft Entra tenant who is not in the organization
        yet (the usual TF400813 case) is added to it by its UPN with O(state=present).
    type: str
    required: true
  state:
    description:
      - V(query) reads and changes nothing.
      - V(present) makes O(member) a direct member of O(group); V(absent) removes the direct membership.
      - Removing the last user or service account of Project Collection Administrators is refused.
    type: str
    choices: [query, present, absent]
    default: query
  recursive:
    description:
      - Count membership through other groups as membership (RV(is_member), RV(path)).
      - With V(false) only a direct membership counts, which costs a single request to check.
      - O(state=present) and O(state=absent) always change the direct membership only; after O(state=absent)
        RV(is_member) tells whether the member is still in the group through another group.
    type: bool
    default: true
notes:
  - 'Reading needs the scope C(vso.graph) (Graph: Read) on Azure DevOps Services or C(vso.identity) (Identity: Read)
    on Azure DevOps Server; changing needs C(vso.graph_manage) or C(vso.identity_manage) and membership in Project
    Collection Administrators (for a project group, the project''s Project Administrators will do) or the
    "Manage membership" permission on the group. A missing scope or permission is reported by name.'
  - Member or group not found, and a name that matches two identities or groups, are errors that list what was
    found; use a UPN, V([Scope]\\Name) or a descriptor to be exact.
  - The result tells which API was used (RV(api)) and how many requests it took (RV(requests)).
  - The role C(azdo.auth.collection_access) audits or converges a whole declaration; the guide C(docs/collection-access.md)
    of the collection explains both.
seealso:
  - module: azdo.auth.ado_pat_check
    description: Its C(NOT_COLLECTION_MEMBER) diagnosis (TF400813) is fixed with this module.
'''

EXAMPLES = r'''
- name: Is the pipeline identity in the collection at all (TF400813 otherwise)?
  azdo.auth.ado_group_membership:
    url: https://dev.azure.com/fabrikam
    pat: "{{ audit_pat }}"
    group: Project Collection Valid Users
    member: deploy-pipeline@fabrikam.example
  register: access

- name: Show how it gets there
  ansible.builtin.debug:
    msg: "{{ access.path | join(' -> ') if access.is_member else 'not a member' }}"

- name: Give a build account the collection group it needs (Azure DevOps Server)
  azdo.auth.ado_group_membership:
    url: https://ado.example.com/tfs/DefaultCollection
    pat: "{{ admin_pat }}"
    group: '[DefaultCollection]\Project Collection Build Service Accounts'
    member: 'EXAMPLE\svc-build'
    state: present

- name: Let a new contractor into a project (adds the Entra user to the organization)
  azdo.auth.ado_group_membership:
    url: https://dev.azure.com/fabrikam
    access_token: "{{ admin_entra_token }}"
    group: '[Fabrikam-Fiber]\Contributors'
    member: contractor@partner.example
    state: present

- name: Check the credential's own identity
  azdo.auth.ado_group_membership:
    url: https://dev.azure.com/fabrikam
    pat: "{{ pipeline_pat }}"
    group: '[Fabrikam-Fiber]\Contributors'
    member: '@me'
'''

RETURN = r'''
is_member:
  description:
    - Whether O(member) is in O(group), directly or (with O(recursive=true)) through other groups.
    - After O(state=present) or O(state=absent), the state after the change (predicted in check mode).
  returned: success
  type: bool
  sample: true
direct:
  description: Whether O(member) is a direct member of O(group) (after the change, for present / absent).
  returned: success
  type: bool
  sample: false
path:
  description: Names from the member up to the group when it is a member (two names for a direct membership), else empty.
  returned: success
  type: list
  elements: str
  sample: ["release.dev@fabrikam.example", "[fabrikam]\\Release Engineers", "[Fabrikam-Fiber]\\Contributors"]
group:
  description: The group that was found.
  returned: success
  type: dict
  contains:
    name:
      description: Scoped name V([Scope]\\Name) as the server spells it (translated on localised servers).
      type: str
      sample: "[fabrikam]\\Project Collection Valid Users"
    descriptor:
      description: Graph descriptor (V(vssgp.xxx)) in the cloud, identity descriptor on premises.
      type: str
      sample: vssgp.Uy0xLTktMTU1MTM3NDI0NS0xNzI1OTM4MDYwLTIyNzk5MjE5OTQtMjU1NTUyMTI0Mi0yNjE2MzUwMTMwLTAtMC0wLTAtMw
    sid:
      description: Security identifier of the group.
      type: str
      sample: S-1-9-1551374245-1725938060-2279921994-2555521242-2616350130-0-0-0-0-3
member:
  description: The member that was found.
  returned: success
  type: dict
  contains:
    name:
      description: Principal name (UPN, account name) of a user, display name of a service principal, V([Scope]\\Name) of a group.
      type: str
      sample: release.dev@fabrikam.example
    descriptor:
      description: Graph descriptor in the cloud, identity descriptor on premises; null for a user check mode would add.
      type: str
      sample: aad.NWIwYzVhOWUtMmYwYi00YTU3LTlkMGUtM2QxYThmN2MyZTEx
    origin:
      description: Where the identity comes from, such as V(aad), V(msa), V(ad) or V(vsts) (groups of Azure DevOps).
      type: str
      sample: aad
api:
  description: V(graph) (Azure DevOps Services) or V(identities) (Azure DevOps Server / TFS).
  returned: always
  type: str
  sample: graph
diff:
  description: The direct membership before and after, for O(state=present) and O(state=absent).
  returned: when state is present or absent
  type: dict
  sample: {"before": {"group": "[fabrikam]\\Project Collection Valid Users", "member": "contractor@partner.example",
           "direct_member": false}, "after": {"group": "[fabrikam]\\Project Collection Valid Users",
           "member": "contractor@partner.example", "direct_member": true}}
requests:
  description: HTTP round trips spent, retries, api-version negotiation and the resource-area look-up included.
  returned: always
  type: int
  sample: 6
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.azdo.auth.plugins.module_utils._membership import MODULE_SPEC, run
from ansible_collections.azdo.auth.plugins.module_utils._runner import execute


def main():
    module = AnsibleModule(supports_check_mode=True, **MODULE_SPEC)
    execute(module, run)


if __name__ == '__main__':
    main()
