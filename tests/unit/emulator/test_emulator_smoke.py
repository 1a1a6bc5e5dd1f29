"""Smoke tests of the Azure DevOps emulator (tests/emulator) over real HTTP(S)."""

# pylint: disable=missing-function-docstring

from __future__ import annotations

import base64
import json
import urllib.parse

import pytest
import requests

from tests.emulator import start_emulator
from tests.emulator.apiversion import check as check_version
from tests.emulator.auth import scope_satisfied

SUPPRESS = {"X-TFS-FedAuthRedirect": "Suppress"}
ADO_HEADERS = ("X-TFS-ProcessId", "X-VSS-E2EID", "ActivityId", "X-TFS-Session")
GRAPH_AREA = "bb1e7ec9-e901-4b68-999a-de7012b920f8"
CORE_AREA = "79134c72-4a58-4b42-976c-04e7115f32bf"


def basic(secret: str, user: str = "") -> dict[str, str]:
    """Authorization header for a PAT sent the accepted way."""
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()}


def bearer(token: str) -> dict[str, str]:
    """Authorization header for a bearer token."""
    return {"Authorization": f"Bearer {token}"}


def get(emu, url: str, headers: dict[str, str] | None = None, **kwargs) -> requests.Response:
    """GET with the emulator's CA and a short timeout."""
    return requests.get(url, headers=headers or {}, verify=emu.verify, timeout=10, **kwargs)


def _reset(emu, server_version: str) -> None:
    emu.clear_faults()
    emu.configure(iis_basic_auth=False, server_version=server_version, now=None)


@pytest.fixture(name="hosted_process", scope="module")
def fixture_hosted_process():
    with start_emulator(mode="hosted") as emu:
        yield emu


@pytest.fixture(name="onprem_process", scope="module")
def fixture_onprem_process():
    with start_emulator(mode="onprem") as emu:
        yield emu


@pytest.fixture(name="hosted")
def fixture_hosted(hosted_process):
    yield hosted_process
    _reset(hosted_process, "cloud")


@pytest.fixture(name="onprem")
def fixture_onprem(onprem_process):
    yield onprem_process
    _reset(onprem_process, "2022.1")


# -- pure helpers ------------------------------------------------------------


@pytest.mark.parametrize(
    ("granted", "required", "expected"),
    [
        (["vso.code_write"], "vso.code", True),
        (["vso.variablegroups_manage"], "vso.variablegroups_read", True),
        (["vso.code"], "vso.code_write", False),
        (["vso.code_write"], "vso.build", False),
        (["app_token"], "vso.build_execute", True),
        (["vso.build_execute"], "vso.build", True),
        (None, "vso.project", True),
        ([], None, True),
    ],
)
def test_scope_rules(granted, required, expected):
    assert scope_satisfied(granted, required) is expected


def test_version_rules():
    assert check_version(None, "2019", "GET") is None
    assert check_version("5.0-preview.1", "2019", "GET") is None
    assert check_version("7.2-preview.1", "cloud", "GET") is None
    assert check_version("7.2", "cloud", "GET").status == 400
    assert check_version("7.1", "2022", "GET").status == 400
    assert check_version("nonsense", "cloud", "GET").status == 400
    assert check_version(None, "cloud", "POST").status == 400


# -- authentication ------------------------------------------------------------


@pytest.mark.parametrize("user", ["", "anything"])
def test_good_pat_hosted_connection_data(hosted, user):
    response = get(hosted, f"{hosted.url}/_apis/connectionData", basic(hosted.token("good"), user))
    assert response.status_code == 200
    data = response.json()
    assert data["authenticatedUser"]["properties"]["Account"]["$value"] == "admin@fabrikam.example"
    assert data["authenticatedUser"]["id"] == hosted.fixture["identities"]["alice"]["id"]
    assert data["authenticatedUser"]["descriptor"].startswith("Microsoft.IdentityModel.Claims.ClaimsIdentity;")
    assert data["deploymentType"] == "hosted"
    assert data["instanceId"] == hosted.fixture["organization_id"]
    assert data["instanceId"] != data["deploymentId"]
    assert data["locationServiceData"]["accessMappings"][0]["accessPoint"] == hosted.base
    for name in ADO_HEADERS:
        assert response.headers.get(name), name


def test_good_pat_onprem_connection_data(onprem):
    assert onprem.url.endswith("/tfs/DefaultCollection")
    response = get(onprem, f"{onprem.url}/_apis/connectionData", basic(onprem.token("good")))
    assert response.status_code == 200
    data = response.json()
    assert data["deploymentType"] == "onPremises"
    assert data["authorizedUser"]["providerDisplayName"] == "Automation Admin"
    assert data["instanceId"] == onprem.fixture["collections"][0]["id"]


def test_pat_as_bearer_hosted(hosted):
    token = hosted.token("good")
    suppressed = get(hosted, f"{hosted.url}/_apis/connectionData", {**bearer(token), **SUPPRESS})
    assert suppressed.status_code == 401
    assert suppressed.content == b""
    assert "Bearer" in suppressed.headers["WWW-Authenticate"]
    signin = get(hosted, f"{hosted.url}/_apis/connectionData", bearer(token))
    assert signin.status_code == 203
    assert signin.headers["Content-Type"].startswith("text/html")
    assert "<html" in signin.text.lower()


def test_anonymous_hosted_and_onprem(hosted, onprem):
    assert get(hosted, f"{hosted.url}/_apis/projects").status_code == 203
    assert get(hosted, f"{hosted.url}/_apis/projects", SUPPRESS).status_code == 401
    response = get(onprem, f"{onprem.url}/_apis/projects")
    assert response.status_code == 401
    challenges = response.headers["WWW-Authenticate"]
    assert "Negotiate" in challenges and "NTLM" in challenges and "Basic" in challenges


def test_basic_without_colon_is_anonymous(hosted, onprem):
    token = hosted.token("good")
    header = {"Authorization": "Basic " + base64.b64encode(token.encode()).decode()}
    assert get(hosted, f"{hosted.url}/_apis/connectionData", {**header, **SUPPRESS}).status_code == 401
    assert get(hosted, f"{hosted.url}/_apis/connectionData", header).status_code == 203
    assert get(onprem, f"{onprem.url}/_apis/connectionData", header).status_code == 401


@pytest.mark.parametrize("key", ["expired", "revoked"])
def test_expired_and_revoked_pat(hosted, key):
    response = get(hosted, f"{hosted.url}/_apis/connectionData", basic(hosted.token(key)))
    assert response.status_code == 401
    assert response.content == b""
    assert response.headers.get("X-TFS-ProcessId")


def test_unknown_pat(hosted):
    response = get(hosted, f"{hosted.url}/_apis/connectionData", basic("x" * 52))
    assert response.status_code == 401
    assert response.content == b""


def test_not_a_collection_member(onprem, hosted):
    for emu in (onprem, hosted):
        response = get(emu, f"{emu.url}/_apis/connectionData", basic(emu.token("outsider")))
        assert response.status_code == 401
        body = response.json()
        assert body["message"].startswith("TF400813: The user '")
        assert body["typeKey"] == "UnauthorizedRequestException"
        assert set(body) >= {"$id", "innerException", "message", "typeName", "typeKey", "errorCode", "eventId"}
        assert urllib.parse.unquote(response.headers["X-TFS-ServiceError"]) == body["message"]


def test_conditional_access(hosted):
    response = get(hosted, f"{hosted.url}/_apis/projects", basic(hosted.token("blocked")))
    assert response.status_code == 403
    assert response.json()["message"].startswith("VS403463:")
    assert "VS403463" in urllib.parse.unquote(response.headers["X-TFS-ServiceError"])


def test_service_principal_not_in_org(hosted):
    response = get(hosted, f"{hosted.url}/_apis/connectionData", bearer(hosted.token("sp_not_in_org")))
    assert response.status_code == 401
    assert response.json()["message"].startswith("TF401444: Please sign-in at least once as ")
    assert response.headers["X-TFS-ServiceError"].startswith("TF401444")


def test_service_principal_member(hosted):
    response = get(hosted, f"{hosted.url}/_apis/connectionData", bearer(hosted.token("sp_member")))
    assert response.status_code == 200
    descriptor = response.json()["authenticatedUser"]["descriptor"]
    assert descriptor.startswith("Microsoft.VisualStudio.Services.Claims.AadServicePrincipal;")


# -- api-version -------------------------------------------------------------------


def test_api_version_out_of_range(onprem):
    onprem.configure(server_version="2019")
    response = get(onprem, f"{onprem.url}/_apis/projects", basic(onprem.token("good")),
                   params={"api-version": "7.1"})
    assert response.status_code == 400
    body = response.json()
    assert body["message"] == (
        "The requested REST API version of 7.1 is out of range for this server. "
        "The latest REST API version this server supports is 5.0."
    )
    assert body["typeKey"] == "VssVersionOutOfRangeException"
    assert body["typeName"] == (
        "Microsoft.VisualStudio.Services.WebApi.VssVersionOutOfRangeException, "
        "Microsoft.VisualStudio.Services.WebApi"
    )
    ok = get(onprem, f"{onprem.url}/_apis/projects", basic(onprem.token("good")), params={"api-version": "5.0"})
    assert ok.status_code == 200
    # connectionData needs no api-version
    assert get(onprem, f"{onprem.url}/_apis/connectionData", basic(onprem.token("good"))).status_code == 200


def test_api_version_in_accept_header(onprem):
    onprem.configure(server_version="2020")
    headers = {**basic(onprem.token("good")), "Accept": "application/json;api-version=7.1-preview.1"}
    response = get(onprem, f"{onprem.url}/_apis/projects", headers)
    assert response.status_code == 400
    assert "supports is 6.0." in response.json()["message"]
    headers["Accept"] = "application/json;api-version=6.0"
    assert get(onprem, f"{onprem.url}/_apis/projects", headers).status_code == 200


# -- scopes and routes ------------------------------------------------------------


def test_missing_scope_is_401(hosted):
    response = get(hosted, f"{hosted.url}/_apis/projects", basic(hosted.token("code_write")))
    assert response.status_code == 401
    assert response.content == b""
    assert response.headers.get("X-TFS-ProcessId")
    assert get(hosted, f"{hosted.url}/_apis/build/resourceusage",
               basic(hosted.token("code_write"))).status_code == 401


def test_scope_satisfied_by_write(hosted):
    response = get(hosted, f"{hosted.url}/_apis/git/repositories", basic(hosted.token("code_write")))
    assert response.status_code == 200
    assert response.json()["count"] == len(response.json()["value"]) >= 1


def test_probe_routes_with_good_pat(hosted, onprem):
    token = hosted.token("good")
    hosted_urls = [
        f"{hosted.url}/_apis/projects",
        f"{hosted.url}/_apis/build/resourceusage",
        f"{hosted.url}/_apis/wit/fields",
        f"{hosted.host_url('feeds')}/_apis/packaging/feeds",
        f"{hosted.host_url('vssps')}/_apis/identities?searchFilter=General&filterValue=admin@fabrikam.example",
        f"{hosted.host_url('vsrm')}/Fabrikam-Fiber/_apis/release/definitions",
        f"{hosted.url}/Fabrikam-Fiber/_apis/distributedtask/variablegroups",
        f"{hosted.url}/Payments/_apis/serviceendpoint/endpoints",
        f"{hosted.url}/_apis/distributedtask/pools",
    ]
    for url in hosted_urls:
        assert get(hosted, url, basic(token)).status_code == 200, url
    # on the wrong cloud host: 404
    assert get(hosted, f"{hosted.url}/_apis/identities?identityIds=x", basic(token)).status_code == 404
    # onprem: everything under the collection
    for path in ("_apis/packaging/feeds", "Payments/_apis/release/definitions",
                 "_apis/identities?searchFilter=General&filterValue=Automation%20Admin"):
        assert get(onprem, f"{onprem.url}/{path}", basic(token)).status_code == 200, path


def test_identities_lookup(hosted):
    alice_id = hosted.fixture["identities"]["alice"]["id"]
    response = get(hosted, f"{hosted.host_url('vssps')}/_apis/identities", basic(hosted.token("good")),
                   params={"identityIds": alice_id})
    body = response.json()
    assert body["count"] == 1 and body["value"][0]["id"] == alice_id


def test_project_lookup_and_404(hosted):
    token = hosted.token("good")
    found = get(hosted, f"{hosted.url}/_apis/projects/fabrikam-fiber", basic(token))
    assert found.status_code == 200
    assert found.json()["name"] == "Fabrikam-Fiber"
    missing = get(hosted, f"{hosted.url}/_apis/projects/NoSuchProject", basic(token))
    assert missing.status_code == 404
    body = missing.json()
    assert body["message"].startswith("TF200016: The following project does not exist: NoSuchProject.")
    assert body["typeKey"] == "ProjectDoesNotExistWithNameException"
    scoped = get(hosted, f"{hosted.host_url('vsrm')}/NoSuchProject/_apis/release/definitions", basic(token))
    assert scoped.status_code == 404


def test_project_paging(hosted):
    response = get(hosted, f"{hosted.url}/_apis/projects", basic(hosted.token("good")), params={"$top": "1"})
    assert response.json()["count"] == 1
    assert response.headers["x-ms-continuationtoken"] == "1"
    rest = get(hosted, f"{hosted.url}/_apis/projects", basic(hosted.token("good")),
               params={"$top": "1", "$skip": "1"})
    assert rest.json()["value"][0]["name"] == "Payments"


def test_unknown_collection_and_route(hosted, onprem):
    response = get(onprem, f"{onprem.base}/tfs/NoSuchCollection/_apis/connectionData", basic(onprem.token("good")))
    assert response.status_code == 404
    assert response.json()["typeKey"] == "HostNotFoundException"
    response = get(hosted, f"{hosted.base}/contoso/_apis/connectionData", basic(hosted.token("good")))
    assert response.status_code == 404
    response = get(hosted, f"{hosted.url}/_apis/nothing/here", basic(hosted.token("good")))
    assert response.status_code == 404
    assert "message" in response.json()


# -- location --------------------------------------------------------------------------


def test_resource_areas(hosted, onprem):
    response = get(hosted, f"{hosted.url}/_apis/resourceAreas/{GRAPH_AREA.upper()}")
    assert response.status_code == 200
    assert response.json()["locationUrl"] == f"{hosted.base}/_hosts/vssps/fabrikam"
    core = get(hosted, f"{hosted.url}/_apis/resourceAreas/{CORE_AREA}").json()
    assert core["locationUrl"] == hosted.url
    onprem_graph = get(onprem, f"{onprem.url}/_apis/resourceAreas/{GRAPH_AREA}").json()
    assert onprem_graph["locationUrl"] == onprem.url
    unknown = get(hosted, f"{hosted.url}/_apis/resourceAreas/00000000-0000-0000-0000-000000000001")
    assert unknown.status_code == 404


def test_deployment_level_connection_data(onprem):
    response = get(onprem, f"{onprem.base}/tfs/_apis/connectionData", basic(onprem.token("good")))
    assert response.status_code == 200
    data = response.json()
    assert data["instanceId"] == data["deploymentId"]
    collection = get(onprem, f"{onprem.url}/_apis/connectionData", basic(onprem.token("good"))).json()
    assert collection["instanceId"] != collection["deploymentId"]


# -- IIS Basic authentication ------------------------------------------------------


def test_iis_basic_auth_intercepts_pats(onprem):
    onprem.configure(iis_basic_auth=True)
    response = get(onprem, f"{onprem.url}/_apis/connectionData", basic(onprem.token("good")))
    assert response.status_code == 401
    assert response.headers["Content-Type"].startswith("text/html")
    assert "401 - Unauthorized: Access is denied due to invalid credentials." in response.text
    assert response.headers["Server"] == "Microsoft-IIS/10.0"
    assert not [name for name in response.headers if name.lower().startswith(("x-tfs", "x-vss"))]
    assert "ActivityId" not in response.headers
    ok = get(onprem, f"{onprem.url}/_apis/connectionData", bearer(onprem.token("sp_member")))
    assert ok.status_code == 200
    assert ok.headers.get("X-TFS-ProcessId")
    onprem.configure(iis_basic_auth=False)
    assert get(onprem, f"{onprem.url}/_apis/connectionData", basic(onprem.token("good"))).status_code == 200


# -- faults --------------------------------------------------------------------------------


def test_fault_429_then_success(hosted):
    hosted.faults([{"path": "/_apis/projects$", "status": 429, "retry_after": "2"}])
    url = f"{hosted.url}/_apis/projects"
    first = get(hosted, url, basic(hosted.token("good")))
    assert first.status_code == 429
    assert first.headers["Retry-After"] == "2"
    assert first.json()["typeKey"]
    second = get(hosted, url, basic(hosted.token("good")))
    assert second.status_code == 200


def test_fault_count_and_method(hosted):
    hosted.faults([{"path": "connectionData", "method": "GET", "status": 503, "count": 2}])
    url = f"{hosted.url}/_apis/connectionData"
    statuses = [get(hosted, url, basic(hosted.token("good"))).status_code for _attempt in range(3)]
    assert statuses == [503, 503, 200]


def test_fault_drop(hosted):
    hosted.faults([{"path": "/_apis/projects", "drop": True}])
    with pytest.raises(requests.ConnectionError):
        get(hosted, f"{hosted.url}/_apis/projects", basic(hosted.token("good")))
    assert get(hosted, f"{hosted.url}/_apis/projects", basic(hosted.token("good"))).status_code == 200


def test_fault_malformed_json_and_html(hosted):
    hosted.faults([{"path": "/_apis/projects", "malformed_json": True}, {"path": "/_apis/projects", "html": True}])
    broken = get(hosted, f"{hosted.url}/_apis/projects", basic(hosted.token("good")))
    assert broken.status_code == 200
    with pytest.raises(ValueError):
        json.loads(broken.text)
    page = get(hosted, f"{hosted.url}/_apis/projects", basic(hosted.token("good")))
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")


def test_bad_fault_rejected(hosted):
    response = requests.post(f"{hosted.base}/_emulator/faults", json={"faults": [{"path": "("}]}, timeout=10)
    assert response.status_code == 400


# -- request log -----------------------------------------------------------------------------


def test_request_log(hosted):
    hosted.reset_log()
    good = hosted.token("good")
    get(hosted, f"{hosted.url}/_apis/connectionData", basic(good))
    get(hosted, f"{hosted.url}/_apis/projects", bearer(good), params={"api-version": "7.1"})
    get(hosted, f"{hosted.url}/_apis/projects", {"Authorization": "Basic " + base64.b64encode(good.encode()).decode()})
    get(hosted, f"{hosted.url}/_apis/projects")
    log = hosted.requests()
    assert len(log) == 4
    assert [entry["auth"] for entry in log] == ["pat", "bearer", "basic-no-colon", "anonymous"]
    assert log[0]["identity"] == "alice" and log[0]["status"] == 200
    assert log[1]["api_version"] == "7.1" and log[1]["query"] == {"api-version": "7.1"}
    assert log[1]["status"] == 203 and log[1]["identity"] is None
    assert not any(entry["fault"] for entry in log)
    dumped = json.dumps(log)
    for key in ("good", "expired", "sp_member"):
        assert hosted.token(key) not in dumped
    assert base64.b64encode(f":{good}".encode()).decode() not in dumped
    hosted.reset_log()
    assert hosted.requests() == []


def test_health_and_config(hosted):
    assert hosted.health()["ok"] is True
    assert hosted.config()["server_version"] == "cloud"
    response = requests.post(f"{hosted.base}/_emulator/config", json={"bogus": 1}, timeout=10)
    assert response.status_code == 400


def test_clock_override_expires_pat(hosted):
    hosted.configure(now="2100-01-01T00:00:00Z")
    assert get(hosted, f"{hosted.url}/_apis/connectionData", basic(hosted.token("good"))).status_code == 401


# -- TLS -----------------------------------------------------------------------------------------


def test_tls(tmp_path):
    with start_emulator(mode="onprem", tls=True, cert_dir=tmp_path) as emu:
        assert emu.base.startswith("https://127.0.0.1:")
        assert emu.ca_file and emu.ca_file.endswith(".pem")
        response = requests.get(f"{emu.url}/_apis/connectionData", headers=basic(emu.token("good")),
                                verify=emu.ca_file, timeout=10)
        assert response.status_code == 200
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(f"{emu.url}/_apis/connectionData", verify=True, timeout=10)
        assert emu.stop() == 0
