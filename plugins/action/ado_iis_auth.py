# -*- coding: utf-8 -*-
# Copyright: contributors to the azdo.auth collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Runs azdo.auth.ado_iis_auth (see plugins/modules/ado_iis_auth.py).

Unlike the API modules this one needs the target: every decision is made here on the controller
(module_utils/_iis.py), and the only thing sent to the host is ``appcmd.exe`` command lines, run
through the task's connection (WinRM, PSRP, SSH) in the syntax of its shell. Nothing is copied to
the target, no PowerShell module and no Python are needed there.
"""

from __future__ import annotations

import functools

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase

from ansible_collections.azdo.auth.plugins.module_utils import _iis
from ansible_collections.azdo.auth.plugins.module_utils._runner import call


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        validation = ArgumentSpecValidator(**_iis.MODULE_SPEC).validate(self._task.args)
        if validation.error_messages:
            result.update(failed=True, changed=False,
                          msg='Invalid arguments: %s' % '; '.join(validation.error_messages))
            return result
        params = validation.validated_parameters
        shell = self._connection._shell
        family = getattr(shell, 'SHELL_FAMILY', 'sh')

        def execute(args):
            command = _iis.render_command(params['appcmd_path'] or _iis.DEFAULT_APPCMD, args, family)
            if family == 'powershell':
                # An encoded command runs the same way over WinRM, PSRP and SSH (whatever the default
                # shell of the SSH server), and the script's "exit" carries appcmd's exit code.
                command = shell._encode_script(command, as_list=False, strict_mode=False, preserve_rc=False)
            outcome = self._low_level_execute_command(command)
            return outcome.get('rc'), outcome.get('stdout', ''), outcome.get('stderr', '')

        warnings = []
        failed, outcome = call(functools.partial(_iis.run, execute=execute), params, bool(self._task.check_mode),
                               warnings.append)
        result.update(outcome)
        if failed:
            result['failed'] = True
        if warnings:
            result['warnings'] = list(result.get('warnings') or []) + warnings
        return result
