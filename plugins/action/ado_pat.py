# -*- coding: utf-8 -*-
# Copyright: contributors to the azdo.auth collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Runs azdo.auth.ado_pat on the controller (see plugins/modules/ado_pat.py)."""

from __future__ import annotations

from ansible_collections.azdo.auth.plugins.module_utils import _pat
from ansible_collections.azdo.auth.plugins.plugin_utils._action import ControllerModuleAction


class ActionModule(ControllerModuleAction):
    MODULE_SPEC = _pat.MODULE_SPEC
    RUN = staticmethod(_pat.run)

    def controller_context(self, task_vars):
        return {'store_factory': self.store_factory(), 'recovery_dir': self._loader.get_basedir()}
