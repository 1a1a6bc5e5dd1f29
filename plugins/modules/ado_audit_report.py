#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the azdo.auth collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: ado_audit_report
short_description: Write an authentication audit as JSON, Markdown and a self-contained HTML page
version_added: 0.1.0
description:
  - Turns audit items - what is declared against what is real - into a report and writes it to O(report_dir) as
    C(audit.json) (machine-readable, schema in C(docs/audit-report.md) of the collection), C(audit.md) and C(audit.html)
    (one page with inline CSS, no script and no external asset; a summary at the top, a table per area, and an expiry
    timeline on which expired and soon-to-expire credentials stand out).
  - An item is C({area, target, declared, actual, status, finding, remediation}) with RV(ignore:status) V(ok), V(drift) or
    V(error). It can also be given as a check, C({area, target, declared, result}), where C(result) is the registered
    result of the read-only module that looked; the module then derives the status, finding and remediation. Areas
    with checks - V(iis_auth) (M(azdo.auth.ado_iis_auth) in report-only mode), V(group_membership)
    (M(azdo.auth.ado_group_membership), O(azdo.auth.ado_group_membership#module:state=query)), V(credentials)
    (M(azdo.auth.ado_pat_check), O(azdo.auth.ado_pat_check#module:fail_on_invalid=false)), V(pat_inventory)
    (C(azdo.auth.ado_pat_info)) and V(stored_tokens) (M(azdo.auth.ado_token_info)).
  - The three files are rendered deterministically and written atomically, each only when its content changes. When
    nothing but the time would change, the previous report is kept as it is, C(generated_at) included, so RV(ignore:changed)
    is V(false) on a re-run of an unchanged audit.
  - The role C(azdo.auth.auth_audit) and the playbook C(azdo.auth.audit) gather the items from the inventory's declaration.
  - Runs on the controller (an action plugin); the report is written there, whatever host the task runs for.
author:
  - azdo.auth contributors (@azdo-auth)
extends_documentation_fragment:
  - azdo.auth.attributes
attributes:
  action:
    description: Runs on the controller as an action plugin and writes the report there.
  check_mode:
    support: full
    details: Builds the report and predicts RV(ignore:changed) and RV(written) without writing anything.
  diff_mode:
    support: none
  idempotent:
    support: full
  action_group:
    support: none
    membership: []
options:
  items:
    description:
      - The audit items, or checks to evaluate (see the description). Values must not hold secrets; checks are reduced
        to fields known to be secret-free.
    type: list
    elements: dict
    required: true
  report_dir:
    description:
      - Directory of the three files, created if missing. A relative path is relative to the playbook directory.
    type: path
    required: true
  fail_on_drift:
    description: Fail, after writing the report, when an item has the status V(drift).
    type: bool
    default: false
  fail_on_error:
    description: Fail, after writing the report, when an item has the status V(error) (it could not be checked).
    type: bool
    default: false
  title:
    description: Title of the report.
    type: str
    default: Azure DevOps authentication audit
  expiry_warning_days:
    description: Credentials that expire within this many days are marked as soon-to-expire on the expiry timeline.
    type: int
    default: 14
  skipped:
    description: Areas that were not checked, as C({area, reason}), listed in the summary.
    type: list
    elements: dict
    default: []
notes:
  - The files are written with mode C(0644). They hold identities, URLs and token fingerprints, never a secret.
seealso:
  - module: azdo.auth.ado_pat_check
  - module: azdo.auth.ado_group_membership
  - module: azdo.auth.ado_iis_auth
  - module: azdo.auth.ado_token_info
'''

EXAMPLES = r'''
- name: Check the pipeline PAT without failing
  azdo.auth.ado_pat_check:
    url: https://dev.azure.com/fabrikam
    pat: "{{ vault_pipeline_pat }}"
    required_scopes: [vso.code, vso.build]
    fail_on_invalid: false
  register: pipeline_check

- name: Write the report; the module derives status, finding and remediation from the check
  azdo.auth.ado_audit_report:
    report_dir: audit-report
    items:
      - area: credentials
        target: pipeline-pat @ https://dev.azure.com/fabrikam
        declared: {required_scopes: [vso.code, vso.build]}
        result: "{{ pipeline_check }}"
    fail_on_drift: true
  # The report is the audit's only write: write it under --check too.
  check_mode: false

- name: A finished item from any other source
  azdo.auth.ado_audit_report:
    report_dir: /srv/audit/2026-11
    items:
      - area: change_control
        target: ADO Server upgrade window
        declared: {approved: true}
        actual: {approved: false}
        status: drift
        finding: The upgrade was not approved.
        remediation: Ask the change board.
'''

RETURN = r'''
report_dir:
  description: The absolute directory of the report.
  returned: always
  type: str
  sample: /srv/playbooks/audit-report
files:
  description: Absolute paths of the three files.
  returned: always
  type: dict
  sample: {"json": "/srv/playbooks/audit-report/audit.json", "markdown": "/srv/playbooks/audit-report/audit.md",
           "html": "/srv/playbooks/audit-report/audit.html"}
written:
  description: Names of the files that were written (would be, in check mode) because their content changed.
  returned: always
  type: list
  elements: str
  sample: [audit.json, audit.md, audit.html]
generated_at:
  description: Time of the report (ISO 8601, UTC); the previous report's time when nothing else changed.
  returned: always
  type: str
  sample: "2026-11-24T08:15:00Z"
summary:
  description: Counts of items, in total, by status and by area.
  returned: always
  type: dict
  sample: {"total": 3, "by_status": {"ok": 1, "drift": 1, "error": 1},
           "by_area": {"credentials": {"ok": 1, "drift": 1, "error": 1, "total": 3}}}
summary_lines:
  description: The summary as short lines of text, for printing.
  returned: always
  type: list
  elements: str
  sample: ["Azure DevOps authentication audit, 2026-11-24T08:15:00Z: 3 checks - ok 1, drift 1, error 1",
           "  Credentials                  ok 1    drift 1    error 1  "]
deviations:
  description: The items that are not V(ok), with their area, target, status and finding.
  returned: always
  type: list
  elements: dict
  sample: [{"area": "credentials", "target": "expired-pat @ https://dev.azure.com/fabrikam", "status": "drift",
            "finding": "The personal access token is expired, revoked or wrong."}]
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.azdo.auth.plugins.module_utils._audit import MODULE_SPEC, run
from ansible_collections.azdo.auth.plugins.module_utils._runner import execute


def main():
    module = AnsibleModule(supports_check_mode=True, **MODULE_SPEC)
    execute(module, run)


if __name__ == '__main__':
    main()
