#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the azdo.auth collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: ado_pat_check
short_description: Check that a PAT or access token works against an Azure DevOps collection, and why not
version_added: 0.1.0
description:
  - Answers "will this credential work against this organization or collection, and if not, exactly why".
  - Calls C(_apis/connectionData) to learn who the credential authenticates as, the deployment type and the
    instance id (one request), then reads the O(project) and probes each of O(required_scopes) with one
    cheap read call that needs exactly that scope (one request each).
  - Every failure is classified into a RV(diagnosis.code) with a remediation a person can act on; see the
    troubleshooting guide C(docs/troubleshooting-401.md) of the collection.
  - Runs on the controller (an action plugin), whatever host the task runs for; nothing is installed or
    sent to the target host.
  - Read-only. RV(ignore:changed) is always V(false).
author:
  - azdo.auth contributors (@azdo-auth)
extends_documentation_fragment:
  - azdo.auth.connection
  - azdo.auth.attributes
attributes:
  check_mode:
    support: full
    details: The checks are read-only and run in check mode too.
  diff_mode:
    support: none
  idempotent:
    support: full
options:
  required_scopes:
    description:
      - Scopes the credential must have. Each is probed with one read call that needs exactly that scope.
      - V(vso.release), V(vso.variablegroups_read) and V(vso.serviceendpoint) are checked inside O(project).
      - A scope granted at a higher level (V(vso.code_write) for V(vso.code)) or a full-access token satisfies it.
    type: list
    elements: str
    default: []
    choices:
      - vso.project
      - vso.code
      - vso.build
      - vso.work
      - vso.packaging
      - vso.identity
      - vso.release
      - vso.variablegroups_read
      - vso.serviceendpoint
      - vso.agentpools
  project:
    description:
      - Name or id of a project that must be reachable with the credential (needs V(vso.project)).
    type: str
  fail_on_invalid:
    description:
      - Fail the task when the credential is not valid. Set to V(false) in audits to get RV(valid=false) and
        the diagnosis as a result instead.
    type: bool
    default: true
  credentials:
    description:
      - Check many credentials in one task, concurrently (bounded by O(concurrency)), instead of a loop.
      - Each entry has C(name) and C(pat) or C(access_token), and optionally C(url), C(required_scopes) and C(project)
        (default the task's O(url), O(required_scopes) and O(project)). Top-level O(pat) and O(access_token) are
        ignored in this mode.
      - The result then has RV(results) (one per credential, in the given order) and RV(summary); RV(valid) is true when
        all are valid.
    type: list
    elements: dict
    suboptions:
      name:
        description: A name for the credential in the results (never the secret).
        type: str
        required: true
      pat:
        description: Personal access token.
        type: str
      access_token:
        description: OAuth or Microsoft Entra ID access token.
        type: str
      url:
        description: Collection URL for this credential.
        type: str
      required_scopes:
        description: Scopes for this credential.
        type: list
        elements: str
        choices: [vso.project, vso.code, vso.build, vso.work, vso.packaging, vso.identity, vso.release,
                  vso.variablegroups_read, vso.serviceendpoint, vso.agentpools]
      project:
        description: Project for this credential.
        type: str
  concurrency:
    description: How many credentials of O(credentials) are checked at the same time (1 to 32).
    type: int
    default: 8
notes:
  - A PAT that is wrong, expired, revoked or lacks a scope gets HTTP 401 with an empty body from Azure DevOps;
    this module tells them apart by what it probes (validity first, then scopes).
  - On Azure DevOps Server older than 2022.1 the first versioned call of a run costs one extra request to learn
    the highest api-version the server accepts; it is remembered for the rest of the run.
seealso:
  - name: Troubleshooting HTTP 401 from Azure DevOps
    description: Every diagnosis code with its symptom, cause and fix (docs/troubleshooting-401.md in the collection).
    link: https://learn.microsoft.com/azure/devops/organizations/accounts/use-personal-access-tokens-to-authenticate
'''

EXAMPLES = r'''
- name: Check the pipeline PAT against the organization, with the scopes it needs
  azdo.auth.ado_pat_check:
    url: https://dev.azure.com/fabrikam
    pat: "{{ pipeline_pat }}"
    project: Fabrikam-Fiber
    required_scopes: [vso.code, vso.build, vso.project]
  register: pat_check

- name: Audit a credential on Azure DevOps Server without failing the play
  azdo.auth.ado_pat_check:
    url: https://ado.example.com/tfs/DefaultCollection
    pat: "{{ audit_pat }}"
    ca_path: /etc/pki/tls/certs/corp-ca.pem
    fail_on_invalid: false
  register: audit

- name: Show why it failed and how to fix it
  ansible.builtin.debug:
    msg: "{{ audit.diagnosis.code }}: {{ audit.diagnosis.remediation }}"
  when: not audit.valid

- name: Check every pipeline credential at once (concurrently, one request each for validity)
  azdo.auth.ado_pat_check:
    url: https://dev.azure.com/fabrikam
    credentials:
      - {name: build-pat, pat: "{{ build_pat }}"}
      - {name: release-pat, pat: "{{ release_pat }}", required_scopes: [vso.release], project: Fabrikam-Fiber}
      - {name: deploy-sp, access_token: "{{ lookup('azdo.auth.ado_token', 'deploy-sp') }}"}
    fail_on_invalid: false
  register: all_checks

- name: Set the connection once for every module of the collection
  module_defaults:
    group/azdo.auth.ado:
      url: https://dev.azure.com/fabrikam
      access_token: "{{ entra_token }}"
  block:
    - name: Check the service principal's token
      azdo.auth.ado_pat_check:
'''

RETURN = r'''
url:
  description: The normalised collection URL that was checked.
  returned: when O(credentials) is not given
  type: str
  sample: https://dev.azure.com/fabrikam
valid:
  description: Whether the credential authenticated and passed every requested check.
  returned: always
  type: bool
  sample: true
authenticated_user:
  description: The identity the credential authenticated as (from connectionData); null if it did not authenticate.
  returned: always
  type: dict
  contains:
    id:
      description: Identity id.
      type: str
      sample: 6f3a1c2e-0000-4000-8000-000000000001
    display_name:
      description: Display name.
      type: str
      sample: Automation Admin
    unique_name:
      description: Account name (UPN, e-mail or DOMAIN\\user).
      type: str
      sample: admin@fabrikam.example
    descriptor:
      description: Identity descriptor.
      type: str
      sample: Microsoft.IdentityModel.Claims.ClaimsIdentity;fabrikam.example\\admin
deployment_type:
  description: V(hosted) for Azure DevOps Services, V(onPremises) for Azure DevOps Server / TFS; null if unknown.
  returned: always
  type: str
  sample: hosted
server:
  description: What is known of the server.
  returned: always
  type: dict
  contains:
    api_version:
      description:
        - Highest REST api-version the server accepts, when known (pinned, negotiated, or the cloud's).
        - Null on an on-premises server when no versioned call was made (validity check only).
      type: str
      sample: '7.1'
    product:
      description: Product derived from the deployment type and the api-version, when derivable.
      type: str
      sample: Azure DevOps Server 2020
    instance_id:
      description: Instance id of the organization or collection.
      type: str
      sample: 0d6e3d3a-0000-4000-8000-0000000000c1
scopes:
  description: Each requested scope and whether the credential has it.
  returned: always
  type: dict
  sample: {"vso.code": true, "vso.build": false}
project:
  description: The project that was found (id and name), when O(project) was given and found.
  returned: always
  type: dict
  sample: {"id": "a1b2c3d4-0000-4000-8000-000000000010", "name": "Fabrikam-Fiber"}
diagnosis:
  description: Why the credential does (not) work.
  returned: always
  type: dict
  contains:
    code:
      description:
        - One of V(OK), V(INVALID_OR_EXPIRED), V(ANONYMOUS_REDIRECT), V(NOT_COLLECTION_MEMBER), V(CONDITIONAL_ACCESS),
          V(SERVICE_PRINCIPAL_NOT_IN_ORG), V(MISSING_SCOPE), V(PROJECT_NOT_FOUND), V(COLLECTION_NOT_FOUND),
          V(API_VERSION_UNSUPPORTED), V(IIS_BASIC_AUTH_INTERCEPTS), V(TLS_ERROR), V(CONNECTION_ERROR),
          V(RATE_LIMITED), V(SERVER_ERROR).
      type: str
      sample: MISSING_SCOPE
    message:
      description: What happened, with what the server said.
      type: str
      sample: "The credential is valid but lacks the scope needed for: vso.build."
    remediation:
      description: What to do about it.
      type: str
      sample: Edit the personal access token and add the missing scopes (vso.build), or create a new token with them.
    http_status:
      description: HTTP status of the answer that decided the diagnosis; null for TLS and connection errors.
      type: int
      sample: 401
    error_code:
      description: TF/VS error code or exception type reported by the server, if any.
      type: str
      sample: TF400813
requests:
  description: HTTP round trips spent, retries and api-version negotiation included.
  returned: always
  type: int
  sample: 3
results:
  description: With O(credentials), one result per credential (the keys above plus C(name)), in the given order.
  returned: when O(credentials) is given
  type: list
  elements: dict
  sample: [{"name": "build-pat", "valid": true, "diagnosis": {"code": "OK"}, "requests": 1}]
summary:
  description: With O(credentials), counts of C(total), C(valid), C(invalid) and C(by_code) (diagnosis code -> count).
  returned: when O(credentials) is given
  type: dict
  sample: {"total": 3, "valid": 2, "invalid": 1, "by_code": {"OK": 2, "INVALID_OR_EXPIRED": 1}}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.azdo.auth.plugins.module_utils._pat_check import MODULE_SPEC, run
from ansible_collections.azdo.auth.plugins.module_utils._runner import execute


def main():
    module = AnsibleModule(supports_check_mode=True, **MODULE_SPEC)
    execute(module, run)


if __name__ == '__main__':
    main()
