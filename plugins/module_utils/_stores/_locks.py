# -*- coding: utf-8 -*-
# Copyright: contributors to the azdo.auth collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""File locks shared by the stores: one entry at a time across forks and parallel ansible-playbook runs."""

from __future__ import annotations

import contextlib
import os

FILELOCK_IMPORT_ERROR = None
try:
    import filelock
except ImportError as exc:  # pragma: no cover - exercised only without filelock
    filelock = None
    FILELOCK_IMPORT_ERROR = exc


def _store_error(message, kind):
    from ansible_collections.azdo.auth.plugins.module_utils._stores import StoreError
    return StoreError(message, kind)


@contextlib.contextmanager
def file_lock(lock_path, timeout, what):
    """Hold ``lock_path`` (created 0600) for the duration of the block, or fail after ``timeout`` seconds."""
    if filelock is None:
        raise _store_error('The Python package filelock is required on the controller: %s' % FILELOCK_IMPORT_ERROR, 'config')
    lock = filelock.FileLock(lock_path, timeout=timeout, mode=0o600)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise _store_error('%s is locked by another writer (%s) for more than %s s; retry later or raise '
                           'store.lock_timeout.' % (what, lock_path, timeout), 'locked')
    except (OSError, IOError) as exc:
        raise _store_error('Cannot create the lock file %s for %s: %s' % (lock_path, what, exc.strerror or exc), 'denied')
    try:
        yield
    finally:
        lock.release()


def entry_lock(directory, key, timeout, what):
    """A lock for one store entry in a private directory of the controller."""
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
    except OSError as exc:
        raise _store_error('Cannot create the lock directory %s: %s' % (directory, exc.strerror or exc), 'denied')
    return file_lock(os.path.join(directory, key + '.lock'), timeout, what)
