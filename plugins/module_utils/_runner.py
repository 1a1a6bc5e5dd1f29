# -*- coding: utf-8 -*-
# Copyright: contributors to the azdo.auth collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""How a module's logic meets Ansible: one run function, called by a module or an action plugin.

Each API module's logic is ``run(params, check_mode, warn) -> result`` in module_utils. It raises
ModuleFailure (or a client AdoError) to fail. ``execute()`` wires it to an AnsibleModule; the
controller-side action plugins call the same function in-process (plugin_utils/_action.py).
"""

from __future__ import annotations

from ansible_collections.azdo.auth.plugins.module_utils._client import AdoError


class ModuleFailure(Exception):
    """Fail the task with ``msg`` and the extra result keys."""

    def __init__(self, msg, **result):
        super(ModuleFailure, self).__init__(msg)
        self.msg = msg
        self.result = result


def call(run, params, check_mode, warn, **context):
    """Run a module function; returns (failed, result) with ``msg`` set on failure.

    ``context`` carries what only the controller has (for example a store factory holding the
    loaded vault secrets); module-side runs pass none.
    """
    try:
        result = run(params, check_mode, warn, **context)
    except ModuleFailure as exc:
        result = dict(exc.result)
        result['msg'] = exc.msg
        result.setdefault('changed', False)
        return True, result
    except AdoError as exc:
        return True, {'msg': str(exc), 'changed': False}
    result.setdefault('changed', False)
    return False, result


def execute(module, run):
    """Run ``run`` for an AnsibleModule and exit through exit_json/fail_json."""
    failed, result = call(run, module.params, module.check_mode, module.warn)
    if failed:
        module.fail_json(**result)
    module.exit_json(**result)
