# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""A small HTTP server on 127.0.0.1 for fault tests: a fault-injecting reverse proxy, or a recorder.

``FaultServer(upstream)`` forwards every request to ``upstream`` (``http://127.0.0.1:PORT``) unless a
rule matches it; the upstream's own address is rewritten to the proxy's in bodies and ``Location``
headers, so clients that follow URLs from answers (resource areas, ``locationUrl``) stay on the proxy.
``FaultServer()`` without an upstream answers ``200 {}`` to everything: a recorder for requests that
must never arrive (credentials on a cross-host redirect). Either way every request is recorded, with
the credential headers it carried.

A rule (``server.add(...)``) matches ``path`` (regex searched in the request path) and ``method``
and is used ``count`` times (-1: forever). What it does:

* ``drop``: close the connection without an answer (a reset);
* ``hang``: accept the request and never answer, until the server stops;
* ``delay``: sleep, then answer or forward;
* ``status``/``body``/``headers``: answer instead of the upstream;
* ``truncate``: send the answer (the upstream's, or ``body``) with a ``Content-Length`` larger than
  the bytes sent, then close;
* ``trickle``: send the headers at once and the body one byte every ``trickle`` seconds.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

CREDENTIAL_HEADERS = ('authorization', 'x-vault-token', 'cookie', 'proxy-authorization')

_HOP_BY_HOP = frozenset(('connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailers',
                         'transfer-encoding', 'upgrade', 'content-length'))


class Rule(object):
    def __init__(self, path='.*', method=None, count=1, status=None, body=None, headers=None, drop=False,
                 hang=False, delay=0.0, truncate=False, trickle=0.0):
        self.path = re.compile(path)
        self.method = method.upper() if method else None
        self.count = count
        self.status = status
        self.body = body if body is None or isinstance(body, bytes) else (
            body.encode('utf-8') if isinstance(body, str) else json.dumps(body).encode('utf-8'))
        self.headers = dict(headers or {})
        self.drop = drop
        self.hang = hang
        self.delay = delay
        self.truncate = truncate
        self.trickle = trickle


class _Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server: '_Server'

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass

    def _serve(self):
        owner = self.server.owner
        length = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(length) if length > 0 else b''
        owner.record(self.command, self.path, self.headers, body)
        rule = owner.take(self.command, urlsplit(self.path).path)
        if rule is not None and rule.delay:
            time.sleep(rule.delay)
        if rule is not None and rule.drop:
            self._abort()
            return
        if rule is not None and rule.hang:
            owner.stopping.wait()
            self._abort()
            return
        if rule is not None and rule.status is not None:
            status, headers, payload = rule.status, list(rule.headers.items()), rule.body or b''
            if rule.body is not None and not any(k.lower() == 'content-type' for k, dummy in headers):
                headers.append(('Content-Type', 'application/json; charset=utf-8'))
        elif owner.upstream:
            try:
                status, headers, payload = owner.forward(self.command, self.path, self.headers, body)
            except OSError:
                self._abort()
                return
            if rule is not None and rule.body is not None:
                payload = rule.body
            headers = [(k, v) for k, v in headers if k.lower() not in [h.lower() for h in rule.headers]] \
                if rule is not None else headers
            headers += list(rule.headers.items()) if rule is not None else []
        else:
            status, headers, payload = 200, [('Content-Type', 'application/json; charset=utf-8')], b'{}'
        self.send_response_only(status)
        for name, value in headers:
            self.send_header(name, value)
        if rule is not None and rule.truncate:
            self.send_header('Content-Length', str(len(payload) + 4096))
            self.send_header('Connection', 'close')
            self.end_headers()
            self.wfile.write(payload[:max(1, len(payload) // 2)])
            self.wfile.flush()
            self._abort()
            return
        self.send_header('Content-Length', str(len(payload)))
        self.end_headers()
        if self.command == 'HEAD':
            return
        if rule is not None and rule.trickle:
            for index in range(len(payload)):
                if owner.stopping.is_set():
                    break
                try:
                    self.wfile.write(payload[index:index + 1])
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(rule.trickle)
            return
        self.wfile.write(payload)

    def _abort(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_LIST = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        pass  # clients hang up on purpose in these tests


class FaultServer(object):
    """See the module docstring. ``url`` is ``http://127.0.0.1:PORT``; ``requests`` is what arrived."""

    def __init__(self, upstream=None, host='127.0.0.1'):
        self.upstream = upstream.rstrip('/') if upstream else None
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._rules = []
        self.requests = []
        self._server = _Server((host, 0), _Handler)
        self._server.owner = self
        self.port = self._server.server_address[1]
        self.url = 'http://%s:%d' % (host, self.port)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={'poll_interval': 0.1}, daemon=True)
        self._thread.start()

    # -- rules and records -------------------------------------------------------------------

    def add(self, **rule):
        with self._lock:
            self._rules.append(Rule(**rule))

    def clear_rules(self):
        with self._lock:
            self._rules = []

    def clear(self):
        with self._lock:
            self._rules = []
            self.requests = []

    def take(self, method, path):
        with self._lock:
            for index, rule in enumerate(self._rules):
                if rule.method and rule.method != method:
                    continue
                if not rule.path.search(path):
                    continue
                if rule.count > 0:
                    rule.count -= 1
                    if rule.count == 0:
                        del self._rules[index]
                return rule
        return None

    def record(self, method, path, headers, body):
        with self._lock:
            self.requests.append({
                'method': method, 'path': path,
                'credentials': sorted(k.lower() for k in headers.keys() if k.lower() in CREDENTIAL_HEADERS),
                'body': body.decode('utf-8', 'replace'),
            })

    def credentials_seen(self):
        """Every credential header name that arrived, with the request it came with."""
        return [(r['method'], r['path'], r['credentials']) for r in self.requests if r['credentials']]

    # -- forwarding ----------------------------------------------------------------------------

    def forward(self, method, path, headers, body):
        parts = urlsplit(self.upstream)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        try:
            out = dict((k, v) for k, v in headers.items() if k.lower() not in _HOP_BY_HOP and k.lower() != 'host')
            out['Host'] = parts.netloc
            if body:
                out['Content-Length'] = str(len(body))
            conn.request(method, path, body=body or None, headers=out)
            response = conn.getresponse()
            payload = response.read()
            answer = [(k, v) for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP]
        finally:
            conn.close()
        payload = payload.replace(self.upstream.encode(), self.url.encode())
        answer = [(k, v.replace(self.upstream, self.url) if k.lower() == 'location' else v) for k, v in answer]
        return response.status, answer, payload

    def stop(self):
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
