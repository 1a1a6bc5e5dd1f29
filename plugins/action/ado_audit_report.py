# -*- coding: utf-8 -*-
# Copyright: contributors to the azdo.auth collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Runs azdo.auth.ado_audit_report on the controller (see plugins/modules/ado_audit_report.py).

The report is written on the controller, whatever host the task runs for; a relative report_dir is
relative to the playbook directory.
"""

from __future__ import annotations

from ansible_collections.azdo.auth.plugins.module_utils import _audit
from ansible_collections.azdo.auth.plugins.plugin_utils._action import ControllerModuleAction


class ActionModule(ControllerModuleAction):
    MODULE_SPEC = _audit.MODULE_SPEC
    RUN = staticmethod(_audit.run)

    def controller_context(self, task_vars):
        return {'basedir': self._loader.get_basedir()}
