# -*- coding: utf-8 -*-
# Copyright: contributors to the azdo.auth collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Runs azdo.auth.ado_token_info on the controller (see plugins/modules/ado_token_info.py)."""

from __future__ import annotations

from ansible_collections.azdo.auth.plugins.module_utils import _token_info
from ansible_collections.azdo.auth.plugins.plugin_utils._action import ControllerModuleAction


class ActionModule(ControllerModuleAction):
    MODULE_SPEC = _token_info.MODULE_SPEC
    RUN = staticmethod(_token_info.run)

    def controller_context(self, task_vars):
        return {'store_factory': self.store_factory()}
