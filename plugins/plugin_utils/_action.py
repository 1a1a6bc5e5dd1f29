# -*- coding: utf-8 -*-
# Copyright: contributors to the azdo.auth collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Base of the controller-side action plugins that run a module's logic in-process.

Azure DevOps and identity calls are made from the controller, whatever host a task runs for
(Windows hosts included): the arguments are validated against the module's argument spec here,
the module_utils ``run`` function is called directly, and every no_log value is scrubbed from the
result. Secrets never travel to a target host or a temporary file, and a loop over many items
pays no per-item module transfer.
"""

from __future__ import annotations

import json
import os

from ansible import constants as C
from ansible.module_utils.basic import remove_values
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase

from ansible_collections.azdo.auth.plugins.module_utils._client import use_run_cache
from ansible_collections.azdo.auth.plugins.module_utils._runner import call

RUN_CACHE_NAME = 'azdo_auth_server_facts.json'


class ControllerModuleAction(ActionBase):
    """Subclasses set MODULE_SPEC (argument_spec and constraints) and RUN (the module function)."""

    TRANSFERS_FILES = False
    _requires_connection = False
    MODULE_SPEC = None
    RUN = None

    def controller_context(self, task_vars):
        """Extra keyword arguments for RUN that only the controller can provide (none by default)."""
        return {}

    def store_factory(self):
        """Open a ``store`` option on the controller: vault secrets and the playbook directory included."""
        from ansible_collections.azdo.auth.plugins.module_utils._stores import open_store
        from ansible_collections.azdo.auth.plugins.plugin_utils._vault import AnsibleVaultCipher
        loader = self._loader

        def factory(spec):
            cipher = None
            if (spec or {}).get('backend', 'ansible_vault') == 'ansible_vault':
                vault = getattr(loader, '_vault', None)
                cipher = AnsibleVaultCipher(getattr(vault, 'secrets', None), (spec or {}).get('vault_id'))
            return open_store(spec, vault_cipher=cipher, basedir=loader.get_basedir())
        return factory

    def run(self, tmp=None, task_vars=None):
        result = super(ControllerModuleAction, self).run(tmp, task_vars)
        del tmp
        validator = ArgumentSpecValidator(**self.MODULE_SPEC)
        validation = validator.validate(self._task.args)
        no_log_values = validation._no_log_values
        if validation.error_messages:
            result.update(failed=True, changed=False,
                          msg='Invalid arguments: %s' % '; '.join(validation.error_messages))
            return remove_values(result, no_log_values)
        warnings = []
        for warning in validation._warnings:
            warnings.append('Both option %s and its alias %s are set.' % (warning.get('option'), warning.get('alias')))
        # The run's local temporary directory outlives this forked worker and dies with the run.
        use_run_cache(os.path.join(C.DEFAULT_LOCAL_TMP, RUN_CACHE_NAME))
        run_function = type(self).RUN
        # Plain Python types, as a module would receive them (templated values carry data tags).
        params = json.loads(json.dumps(validation.validated_parameters))
        failed, outcome = call(run_function, params, bool(self._task.check_mode),
                               warnings.append, **self.controller_context(task_vars or {}))
        result.update(outcome)
        if failed:
            result['failed'] = True
        if warnings:
            result['warnings'] = list(result.get('warnings') or []) + warnings
        return remove_values(result, no_log_values)
