# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Stand-in for the pip bootstrap script ansible-test downloads from a host this machine cannot reach.

ansible-test runs it as ``python get_pip.py <pip options> <packages>`` to put pip into the virtual
environments it creates. This does the same with the pip wheel bundled in the interpreter (ensurepip);
pip then installs the requested pip version from the package index as usual.
"""

from __future__ import annotations

import glob
import os
import runpy
import sys

import ensurepip


def main():
    bundled = glob.glob(os.path.join(os.path.dirname(ensurepip.__file__), '_bundled', 'pip-*.whl'))
    if not bundled:
        sys.exit('no bundled pip wheel in ensurepip')
    sys.path.insert(0, sorted(bundled)[-1])
    # --no-setuptools/--no-wheel are get-pip.py's own flags (do not add those packages): pip has none.
    args = [arg for arg in sys.argv[1:] if arg not in ('--no-setuptools', '--no-wheel')]
    sys.argv = [sys.argv[0], 'install'] + args
    runpy.run_module('pip', run_name='__main__', alter_sys=True)


if __name__ == '__main__':
    main()
