"""API areas of the emulator, one module each.

Each module exposes ``register(router)``; add a new area by writing a module
with that function and listing it in :data:`AREA_MODULES`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import core, graph, identities, location, oauth, probes, tokens

if TYPE_CHECKING:  # pragma: no cover
    from ..routing import Router

AREA_MODULES = (location, core, identities, graph, probes, oauth, tokens)


def register_all(router: "Router") -> None:
    """Register the routes of every area module."""
    for module in AREA_MODULES:
        module.register(router)
