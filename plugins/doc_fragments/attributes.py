# -*- coding: utf-8 -*-
# Copyright: contributors to the azdo.auth collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment(object):
    # Attributes of the controller-side API modules of the collection.
    DOCUMENTATION = r'''
attributes:
  action:
    description: The module runs on the controller as an action plugin; nothing is executed on the target host.
    support: full
  async:
    description: Supports being used with the C(async) keyword.
    support: none
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying anything.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
  idempotent:
    description: Running it again with the same arguments changes nothing the second time.
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
    platforms: all
  action_group:
    description: Use C(group/azdo.auth.ado) in C(module_defaults) to set the connection options once.
    support: full
    membership:
      - azdo.auth.ado
'''
