# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The demo report's audit.html in a real headless browser (Debian's chromium; `make bootstrap` installs it).

A screenshot must be a real picture (not blank, the colours of the summary tiles in it), the DOM after
loading must hold the summary and one table per area, and the browser must log no script or console
error. The page has no script and loads nothing: it is rendered from file:// with networking off.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib

import pytest

from .test_audit import _free_port, make_audit_demo

CHROMIUM = shutil.which('chromium')
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason='chromium is not installed: `make bootstrap` installs it with apt-get (needs root and '
                             'the Debian package chromium); without it the HTML report cannot be checked in a browser')

AREAS = ('iis_auth', 'group_membership', 'credentials', 'pat_inventory', 'stored_tokens')
# Summary tiles (plugins/module_utils/_audit.py CSS): ok, drift, error.
TILE_COLOURS = {'ok': (0x2e, 0x7d, 0x32), 'drift': (0xc2, 0x41, 0x0c), 'error': (0xb9, 0x1c, 0x1c)}


@pytest.fixture(scope='module')
def demo_report(tmp_path_factory):
    directory = tmp_path_factory.mktemp('audit-demo')
    make_audit_demo(directory, (_free_port(), _free_port()))
    return directory / 'audit.html'


def chromium(profile, *args):
    command = [CHROMIUM, '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
               '--disable-background-networking', '--disable-component-update', '--disable-sync',
               '--user-data-dir=%s' % profile, '--enable-logging=stderr', '--v=0'] + list(args)
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def page_errors(stderr):
    """Console messages and uncaught errors of the page (chromium logs them as ``INFO:CONSOLE:1] "..."``)."""
    return [line for line in stderr.splitlines() if 'Uncaught' in line or re.search(r':CONSOLE[(:]', line)]


def png_pixels(data):
    """(width, height, set of RGB colours) of an 8-bit RGB or RGBA, non-interlaced PNG (what chromium writes)."""
    assert data[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG file'
    offset, chunks = 8, {}
    while offset < len(data):
        length, kind = struct.unpack('>I4s', data[offset:offset + 8])
        chunks.setdefault(kind, []).append(data[offset + 8:offset + 8 + length])
        offset += 12 + length
    width, height, depth, colour, dummy, dummy2, interlace = struct.unpack('>IIBBBBB', chunks[b'IHDR'][0])
    assert depth == 8 and colour in (2, 6) and interlace == 0, 'unexpected PNG format %s/%s/%s' % (depth, colour, interlace)
    size = 3 if colour == 2 else 4
    raw = zlib.decompress(b''.join(chunks[b'IDAT']))
    stride = width * size
    previous = bytearray(stride)
    colours = set()
    for row in range(height):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            left = line[i - size] if i >= size else 0
            up = previous[i]
            corner = previous[i - size] if i >= size else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xff
            elif kind == 2:
                line[i] = (line[i] + up) & 0xff
            elif kind == 3:
                line[i] = (line[i] + ((left + up) >> 1)) & 0xff
            elif kind == 4:
                guess = left + up - corner
                pa, pb, pc = abs(guess - left), abs(guess - up), abs(guess - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xff
        if row % 4 == 0:  # every fourth row is plenty to see what is on the page
            colours.update(bytes(line[i:i + 3]) for i in range(0, stride, size))
        previous = line
    return width, height, colours


def test_screenshot_is_a_real_picture(demo_report, tmp_path):
    shot = tmp_path / 'audit.png'
    completed = chromium(tmp_path / 'profile', '--screenshot=%s' % shot, '--window-size=1280,2000',
                         demo_report.as_uri())
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert not page_errors(completed.stderr), page_errors(completed.stderr)
    data = shot.read_bytes()
    assert len(data) > 30000, 'screenshot of %d bytes: nearly empty' % len(data)
    width, height, colours = png_pixels(data)
    assert (width, height) == (1280, 2000)
    assert len(colours) > 50, 'only %d colours: a blank page' % len(colours)
    for status, rgb in TILE_COLOURS.items():
        assert bytes(rgb) in colours, 'the %s summary tile is not on the screenshot' % status


def test_dom_holds_the_summary_and_every_area(demo_report, tmp_path):
    completed = chromium(tmp_path / 'profile', '--dump-dom', demo_report.as_uri())
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert not page_errors(completed.stderr), page_errors(completed.stderr)
    dom = completed.stdout
    assert '<h2 id="summary-heading">Summary</h2>' in dom
    assert '<table class="summary" id="summary-by-area">' in dom
    for area in AREAS:
        assert '<table class="items" id="table-%s">' % area in dom, area
        assert 'href="#area-%s"' % area in dom
    assert '<h2 id="expiry-heading">Expiry timeline</h2>' in dom
    assert 'class="track expired"' in dom and 'class="bar soon"' in dom
    assert '<script' not in dom
