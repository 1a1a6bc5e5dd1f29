"""The emulator's Graph area and the group side of its Identities area, over real HTTP."""

# pylint: disable=missing-function-docstring

from __future__ import annotations

import base64
import urllib.parse

import pytest
import requests

from tests.emulator import load_fixture_data, start_emulator
from tests.emulator.state import State, load_state

GRAPH = {"api-version": "7.1-preview.1"}
IMS = {"api-version": "5.0"}
PCVU_RID = "-0-0-0-0-3"


def basic(secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f":{secret}".encode()).decode()}


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def secret(emu, key: str) -> str:
    for section in ("credentials", "graph_credentials"):
        if key in (emu.fixture.get(section) or {}):
            return emu.fixture[section][key]["token"]
    raise KeyError(key)


def call(emu, method: str, path: str, key: str = "full_access", host: str = "vssps", params=None, **kwargs):
    base = emu.host_url(host) if emu.mode == "hosted" else emu.url
    query = dict(GRAPH if "/graph/" in path else IMS)
    query.update(params or {})
    return requests.request(method, f"{base}/{path}", params=query, headers=basic(secret(emu, key)),
                            verify=emu.verify, timeout=20, **kwargs)


@pytest.fixture(name="hosted", scope="module")
def fixture_hosted():
    with start_emulator(mode="hosted") as emu:
        yield emu


@pytest.fixture(name="onprem", scope="module")
def fixture_onprem():
    with start_emulator(mode="onprem") as emu:
        yield emu


def groups_of(emu) -> dict[str, dict]:
    return {g["principalName"]: g for g in call(emu, "GET", "_apis/graph/groups").json()["value"]}


def user_descriptor(emu, key: str) -> str:
    identities = dict(emu.fixture["identities"], **emu.fixture["directory_users"])
    prefix = "aad." if emu.mode == "hosted" else "win."
    return prefix + b64(identities[key]["id"])


# -- state (no HTTP) ---------------------------------------------------------------------


def test_directory_built_from_the_fixture():
    state = load_state()
    org = state.directories["org"]
    assert org.valid_users.sid.endswith(PCVU_RID) and org.administrators.sid.endswith("-0-0-0-0-1")
    assert org.valid_users.principal_name == "[fabrikam]\\Project Collection Valid Users"
    contractors = org.find("Fabrikam Contractors")
    assert len(contractors.members) == 2500
    assert state.identity("contractor2500").member_of("fabrikam")
    german = state.directories["projektsammlung"]
    assert german.valid_users.name == "Gültige Benutzer der Projektsammlung"
    assert german.valid_users.sid.endswith(PCVU_RID) and german.valid_users.sid != org.valid_users.sid
    assert german.find("Contributors", "Fabrikam-Fiber").name == "Mitwirkende"
    # membership and authentication agree from the start
    assert not state.identity("outsider").member_of("fabrikam")
    assert state.identity("developer").member_of("fabrikam")
    assert state.identity("alice").member_of("DefaultCollection")
    assert not org.contains_identity(state.identity("outsider").id)


def test_sync_collection_membership_flips_the_tf400813_flag():
    state = State(load_fixture_data())
    org = state.directories["org"]
    outsider = state.identity("outsider")
    org.add_member(org.find("Readers", "Payments"), outsider.id)
    assert state.sync_collection_membership(state.org_collection) == ["outsider"]
    assert outsider.member_of("fabrikam") and not outsider.member_of("DefaultCollection")
    org.remove_member(org.find("Readers", "Payments"), outsider.id)
    assert state.sync_collection_membership(state.org_collection) == ["outsider"]
    assert not outsider.member_of("fabrikam")


def test_organization_locale_option():
    data = load_fixture_data()
    data["organization_locale"] = "de"
    state = State(data)
    assert state.directories["org"].valid_users.principal_name == "[fabrikam]\\Gültige Benutzer der Projektsammlung"


# -- Graph reads ---------------------------------------------------------------------------


def test_groups_list_shape_and_scope(hosted):
    response = call(hosted, "GET", "_apis/graph/groups")
    assert response.status_code == 200 and "X-MS-ContinuationToken" not in response.headers
    groups = {g["principalName"]: g for g in response.json()["value"]}
    pcvu = groups["[fabrikam]\\Project Collection Valid Users"]
    sid = base64.urlsafe_b64decode(pcvu["descriptor"][6:] + "==").decode()
    assert pcvu["descriptor"].startswith("vssgp.") and sid.endswith(PCVU_RID)
    assert pcvu["subjectKind"] == "group" and pcvu["origin"] == "vsts"
    assert pcvu["domain"] == f"vstfs:///Framework/IdentityDomain/{hosted.fixture['organization_id']}"
    assert set(pcvu["_links"]) == {"self", "memberships", "membershipState", "storageKey"}
    assert "[TEAM FOUNDATION]\\Enterprise Service Accounts" in groups
    project = hosted.fixture["projects"][0]["id"]
    scoped = call(hosted, "GET", "_apis/graph/groups", params={"scopeDescriptor": "scp." + b64(project)}).json()
    assert {g["principalName"].split("\\")[0] for g in scoped["value"]} == {"[Fabrikam-Fiber]"}


def test_users_list_pages_through_the_continuation_header(hosted):
    seen, pages, token = [], 0, None
    while True:
        params = {"continuationToken": token} if token else {}
        response = call(hosted, "GET", "_apis/graph/users", params=params)
        assert response.status_code == 200
        pages += 1
        seen += [u["principalName"] for u in response.json()["value"]]
        token = response.headers.get("X-MS-ContinuationToken")
        if not token:
            break
    assert pages == 6 and len(seen) == len(set(seen)) == 2506
    assert "contractor@partner.example" not in seen  # TF400813: not in the organisation
    bad = call(hosted, "GET", "_apis/graph/users", params={"continuationToken": "garbage"})
    assert bad.status_code == 400


def test_subject_query_and_lookup(hosted):
    cut = call(hosted, "POST", "_apis/graph/subjectquery", json={"query": "Contractor 1", "subjectKind": ["User"]})
    assert cut.status_code == 200 and cut.json()["count"] == 100
    exact = call(hosted, "POST", "_apis/graph/subjectquery", json={"query": "release.dev@", "subjectKind": ["User"]})
    assert [u["principalName"] for u in exact.json()["value"]] == ["release.dev@fabrikam.example"]
    groups = call(hosted, "POST", "_apis/graph/subjectquery", json={"query": "Project Coll", "subjectKind": ["Group"]})
    assert all(g["subjectKind"] == "group" for g in groups.json()["value"]) and groups.json()["count"] == 6
    alice = user_descriptor(hosted, "alice")
    lookup = call(hosted, "POST", "_apis/graph/subjectlookup",
                  json={"lookupKeys": [{"descriptor": alice}, {"descriptor": "aad.bm90LWEtdXNlcg"}]}).json()
    assert lookup["count"] == 1 and lookup["value"][alice]["principalName"] == "admin@fabrikam.example"


def test_descriptors_and_storage_keys_round_trip(hosted):
    alice_id = hosted.fixture["identities"]["alice"]["id"]
    descriptor = call(hosted, "GET", f"_apis/graph/descriptors/{alice_id}").json()["value"]
    assert descriptor == user_descriptor(hosted, "alice")
    assert call(hosted, "GET", f"_apis/graph/storagekeys/{descriptor}").json()["value"] == alice_id
    org = call(hosted, "GET", f"_apis/graph/descriptors/{hosted.fixture['organization_id']}").json()["value"]
    assert org.startswith("scp.")
    assert call(hosted, "GET", "_apis/graph/descriptors/00000000-0000-0000-0000-000000000000").status_code == 404
    outsider = hosted.fixture["identities"]["outsider"]["id"]
    assert call(hosted, "GET", f"_apis/graph/descriptors/{outsider}").status_code == 404


def test_memberships_up_down_and_check(hosted):
    groups = groups_of(hosted)
    engineers = groups["[fabrikam]\\Release Engineers"]["descriptor"]
    contributors = groups["[Fabrikam-Fiber]\\Contributors"]["descriptor"]
    developer = user_descriptor(hosted, "developer")
    up = call(hosted, "GET", f"_apis/graph/Memberships/{developer}", params={"direction": "up"}).json()
    assert [m["containerDescriptor"] for m in up["value"]] == [engineers]
    down = call(hosted, "GET", f"_apis/graph/Memberships/{contributors}", params={"direction": "Down"}).json()
    assert {m["memberDescriptor"] for m in down["value"]} >= {engineers}
    large = groups["[fabrikam]\\Fabrikam Contractors"]["descriptor"]
    assert call(hosted, "GET", f"_apis/graph/Memberships/{large}", params={"direction": "down"}).json()["count"] == 2500
    assert call(hosted, "HEAD", f"_apis/graph/memberships/{developer}/{engineers}").status_code == 200
    assert call(hosted, "HEAD", f"_apis/graph/memberships/{developer}/{contributors}").status_code == 404
    body = call(hosted, "GET", f"_apis/graph/memberships/{developer}/{engineers}").json()
    assert body["memberDescriptor"] == developer and set(body["_links"]) == {"self", "member", "container"}
    assert call(hosted, "GET", "_apis/graph/Memberships/aad.bm9ib2R5").status_code == 404
    assert call(hosted, "GET", f"_apis/graph/membershipstates/{developer}").json()["active"] is True


def test_graph_scopes_and_hosts(hosted, onprem):
    assert call(hosted, "GET", "_apis/graph/groups", key="good").status_code == 401  # no vso.graph
    assert call(hosted, "GET", "_apis/graph/groups", key="graph_reader").status_code == 200
    assert call(hosted, "GET", "_apis/graph/groups", host="app").status_code == 404  # not on the org URL
    assert call(onprem, "GET", "_apis/graph/groups").status_code == 404  # no Graph on Azure DevOps Server


# -- Graph writes (fresh emulator each: they change state) -----------------------------------


@pytest.fixture(name="fresh_hosted")
def fixture_fresh_hosted():
    with start_emulator(mode="hosted") as emu:
        yield emu


def test_adding_the_tf400813_user_lets_it_in(fresh_hosted):
    emu = fresh_hosted
    outsider_pat = secret(emu, "outsider")
    connection = f"{emu.url}/_apis/connectionData"
    assert requests.get(connection, headers=basic(outsider_pat), timeout=10).status_code == 401
    readers = groups_of(emu)["[Payments]\\Readers"]["descriptor"]
    created = call(emu, "POST", "_apis/graph/users", params={"groupDescriptors": readers},
                   json={"principalName": "contractor@partner.example"})
    assert created.status_code == 201 and created.headers["Location"] == created.json()["url"]
    assert requests.get(connection, headers=basic(outsider_pat), timeout=10).status_code == 200
    descriptor = created.json()["descriptor"]
    assert call(emu, "DELETE", f"_apis/graph/memberships/{descriptor}/{readers}").status_code == 200
    assert requests.get(connection, headers=basic(outsider_pat), timeout=10).status_code == 401
    # PUT by descriptor works for a tenant user too, and a second PUT is harmless
    for dummy in range(2):
        assert call(emu, "PUT", f"_apis/graph/memberships/{descriptor}/{readers}").status_code == 201
    assert requests.get(connection, headers=basic(outsider_pat), timeout=10).status_code == 200
    unknown = call(emu, "POST", "_apis/graph/users", json={"principalName": "nobody@partner.example"})
    assert unknown.status_code == 404


def test_write_permissions_and_cycles(fresh_hosted):
    emu = fresh_hosted
    groups = groups_of(emu)
    readers = groups["[Payments]\\Readers"]["descriptor"]
    engineers = groups["[fabrikam]\\Release Engineers"]["descriptor"]
    contributors = groups["[Fabrikam-Fiber]\\Contributors"]["descriptor"]
    developer = user_descriptor(emu, "developer")
    path = f"_apis/graph/memberships/{developer}/{readers}"
    assert call(emu, "PUT", path, key="graph_reader").status_code == 401  # vso.graph only
    denied = call(emu, "PUT", path, key="graph_manager")  # scope fine, not an administrator
    assert denied.status_code == 403 and denied.json()["typeKey"] == "AccessCheckException"
    assert "Manage membership" in denied.json()["message"]
    assert call(emu, "DELETE", path).status_code == 404  # not a member
    cycle = call(emu, "PUT", f"_apis/graph/memberships/{contributors}/{engineers}")
    assert cycle.status_code == 400 and "cycle" in cycle.json()["message"]


# -- Identities: groups and membership --------------------------------------------------------


def ims(emu, params, key="full_access"):
    return call(emu, "GET", "_apis/identities", key=key, params=params)


def test_groups_are_identities(onprem):
    found = ims(onprem, {"searchFilter": "General", "filterValue": "Project Collection Valid Users"}).json()
    assert found["count"] == 1
    group = found["value"][0]
    assert group["isContainer"] and group["descriptor"].startswith("Microsoft.TeamFoundation.Identity;S-1-9-")
    assert group["descriptor"].endswith(PCVU_RID) and group["subjectDescriptor"].startswith("vssgp.")
    assert group["providerDisplayName"] == "[DefaultCollection]\\Project Collection Valid Users"
    assert group["properties"]["SpecialType"]["$value"] == "EveryoneApplicationGroup"
    assert group["members"] == [] and group["memberOf"] == []  # queryMembership None
    direct = ims(onprem, {"descriptors": group["descriptor"], "queryMembership": "Direct"}).json()["value"][0]
    assert len(direct["members"]) == len(direct["memberIds"]) > 10
    by_subject = ims(onprem, {"subjectDescriptors": group["subjectDescriptor"]}).json()["value"][0]
    assert by_subject["id"] == group["id"]
    assert ims(onprem, {"identityIds": group["id"]}).json()["value"][0]["id"] == group["id"]


def test_query_membership_direct_and_expanded(onprem):
    user = ims(onprem, {"searchFilter": "AccountName", "filterValue": "FABRIKAM\\release.dev",
                        "queryMembership": "Direct"}).json()["value"]
    assert len(user) == 1
    assert [d.split(";")[0] for d in user[0]["memberOf"]] == ["Microsoft.TeamFoundation.Identity"]
    expanded = ims(onprem, {"descriptors": user[0]["descriptor"], "queryMembership": "ExpandedUp"}).json()["value"][0]
    assert len(expanded["memberOf"]) == 4  # Release Engineers, Contributors, Project Valid Users, PCVU
    assert any(d.endswith(PCVU_RID) for d in expanded["memberOf"])
    assert ims(onprem, {"descriptors": user[0]["descriptor"], "queryMembership": "Sideways"}).status_code == 400


def test_onprem_resolves_accounts_outside_the_collection(onprem, hosted):
    found = ims(onprem, {"searchFilter": "MailAddress", "filterValue": "contractor@partner.example"}).json()
    assert found["count"] == 1  # Active Directory knows the account
    cloud = ims(hosted, {"searchFilter": "MailAddress", "filterValue": "contractor@partner.example"}).json()
    assert cloud["count"] == 0  # the organisation does not


def test_groups_route_by_scope(onprem):
    collection = onprem.fixture["collections"][0]["id"]
    flat = call(onprem, "GET", "_apis/groups", params={"scopeIds": collection}).json()["value"]
    deep = call(onprem, "GET", "_apis/groups", params={"scopeIds": collection, "recurse": "true"}).json()["value"]
    assert all(g["properties"]["ScopeType"]["$value"] == "ServiceHost" for g in flat)
    assert len(deep) > len(flat) and any(g["providerDisplayName"] == "[Payments]\\Readers" for g in deep)


def test_localised_collection(onprem):
    url = onprem.url.rsplit("/", 1)[0] + "/Projektsammlung"
    response = requests.get(f"{url}/_apis/groups", params=IMS, headers=basic(secret(onprem, "full_access")),
                            timeout=10)
    names = {g["providerDisplayName"]: g["descriptor"] for g in response.json()["value"]}
    assert names["[Projektsammlung]\\Gültige Benutzer der Projektsammlung"].endswith(PCVU_RID)
    assert "[Projektsammlung]\\Project Collection Valid Users" not in names


@pytest.fixture(name="fresh_onprem")
def fixture_fresh_onprem():
    with start_emulator(mode="onprem") as emu:
        yield emu


def test_identities_membership_writes(fresh_onprem):
    emu = fresh_onprem
    outsider = emu.fixture["identities"]["outsider"]
    readers = [g for g in call(emu, "GET", "_apis/groups").json()["value"]
               if g["providerDisplayName"] == "[Payments]\\Readers"][0]
    connection = f"{emu.url}/_apis/connectionData"
    pat = secret(emu, "outsider")
    assert requests.get(connection, headers=basic(pat), timeout=10).status_code == 401
    path = f"_apis/identities/{readers['id']}/members/{outsider['id']}"
    assert call(emu, "PUT", path, key="good").status_code == 401  # vso.identity only
    assert call(emu, "PUT", path, key="graph_manager").status_code == 403
    added = call(emu, "PUT", path, params={"api-version": "5.0-preview.1"})
    assert added.status_code == 200 and added.json() is True
    assert requests.get(connection, headers=basic(pat), timeout=10).status_code == 200
    members = call(emu, "GET", f"_apis/identities/{readers['id']}/members").json()["value"]
    assert any(outsider["unique_name"] in d for d in members)
    member_of = call(emu, "GET", f"_apis/identities/{outsider['id']}/membersOf").json()["value"]
    assert member_of == [readers["descriptor"]]
    by_descriptor = urllib.parse.quote(readers["descriptor"], safe="")
    assert call(emu, "DELETE", f"_apis/identities/{by_descriptor}/members/{outsider['id']}").json() is True
    assert call(emu, "DELETE", path).json() is False
    assert requests.get(connection, headers=basic(pat), timeout=10).status_code == 401
    assert call(emu, "PUT", "_apis/identities/not-a-group/members/x").status_code == 404
