"""Identities area (IMS): ``GET _apis/identities`` (scope ``vso.identity``).

Hosted: served on the ``vssps`` host; onprem: under the collection.

Query (see SHAPES.md section 5): ``identityIds`` (comma-separated ids),
``descriptors`` (comma-separated descriptor strings), ``searchFilter`` +
``filterValue`` (also the ``searchFactor`` + ``factorValue`` spelling):
``General`` (display name, account or unique name), ``AccountName``,
``DisplayName``, ``MailAddress``. Lookups by id / descriptor return ``null``
for unknown entries, in request order, as the service does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..models import identity_descriptor, identity_domain, identity_json
from ..wire import Response, bad_request, wrapped

if TYPE_CHECKING:  # pragma: no cover
    from ..routing import RequestContext, Router
    from ..state import Identity

IDENTITIES_LOCATION = "28010c54-d0c0-4c89-a5b0-1c9e188b9fb7"

_FILTERS = ("general", "accountname", "displayname", "mailaddress")


def _visible(ctx: "RequestContext") -> list["Identity"]:
    name = ctx.collection.name if ctx.collection else None
    return [
        ident for ident in ctx.state.identities.values()
        if not ident.service_principal_not_in_org and (name is None or ident.member_of(name))
    ]


def _matches(ident: "Identity", ctx: "RequestContext", search: str, value: str) -> bool:
    wanted = value.strip().lower()
    account = ident.unique_name.lower()
    alias = account.split("@", 1)[0]
    domain_account = f"{identity_domain(ident, ctx.app)}\\{alias}".lower()
    display = ident.display_name.lower()
    if search == "accountname":
        return wanted in (account, alias, domain_account)
    if search == "displayname":
        return wanted == display
    if search == "mailaddress":
        return not ident.is_service_principal and wanted == account
    return wanted in (account, alias, domain_account, display)


def read_identities(ctx: "RequestContext") -> Response:
    """``GET _apis/identities``."""
    visible = _visible(ctx)
    ids = ctx.q("identityIds")
    if ids:
        by_id = {ident.id.lower(): ident for ident in visible}
        found = [by_id.get(part.strip().lower()) for part in ids.split(",") if part.strip()]
        return wrapped([identity_json(i, ctx.app, full=True) if i else None for i in found])
    descriptors = ctx.q("descriptors")
    if descriptors:
        by_descriptor = {identity_descriptor(ident, ctx.app).lower(): ident for ident in visible}
        found = [by_descriptor.get(part.strip().lower()) for part in descriptors.split(",") if part.strip()]
        return wrapped([identity_json(i, ctx.app, full=True) if i else None for i in found])
    search = ctx.q("searchFilter") or ctx.q("searchFactor")
    value = ctx.q("filterValue") or ctx.q("factorValue")
    if search and value is not None:
        search = search.strip().lower()
        if search not in _FILTERS:
            return bad_request(f"Invalid search filter: {search}", "ArgumentException")
        found = [ident for ident in visible if _matches(ident, ctx, search, value)]
        return wrapped([identity_json(i, ctx.app, full=True) for i in found])
    return bad_request(
        "Exactly one of descriptors, identityIds, subjectDescriptors, or searchFilter/filterValue "
        "must be specified.",
        "ArgumentException",
    )


def register(router: "Router") -> None:
    """Register the identities routes."""
    router.add("GET", "_apis/identities", read_identities, scope="vso.identity", cloud_host="vssps",
               location_id=IDENTITIES_LOCATION)
