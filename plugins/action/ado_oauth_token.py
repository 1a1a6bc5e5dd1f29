# -*- coding: utf-8 -*-
# Copyright: contributors to the azdo.auth collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Runs azdo.auth.ado_oauth_token on the controller (see plugins/modules/ado_oauth_token.py)."""

from __future__ import annotations

from ansible_collections.azdo.auth.plugins.module_utils import _oauth
from ansible_collections.azdo.auth.plugins.plugin_utils._action import ControllerModuleAction


class ActionModule(ControllerModuleAction):
    MODULE_SPEC = _oauth.MODULE_SPEC
    RUN = staticmethod(_oauth.run)

    def controller_context(self, task_vars):
        # The recovery file goes beside the playbook unless recovery_dir says otherwise.
        return {'store_factory': self.store_factory(), 'recovery_dir': self._loader.get_basedir()}
