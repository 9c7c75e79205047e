"""The realm: what the local Keycloak imports and what production imports agree on clients, roles and claims."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from hoso.auth import Role

ROOT = Path(__file__).resolve().parents[2]
LOCAL = json.loads((ROOT / "deploy/keycloak/hoso-realm.json").read_text(encoding="utf-8"))
PRODUCTION = yaml.safe_load((ROOT / "deploy/k8s/base/keycloak/realm.yaml").read_text(encoding="utf-8"))["spec"]["realm"]


def client(realm: dict[str, Any], client_id: str) -> dict[str, Any]:
    return next(c for c in realm["clients"] if c["clientId"] == client_id)


def mappers(realm: dict[str, Any], client_id: str) -> dict[str, dict[str, str]]:
    return {m["name"]: m["config"] for m in client(realm, client_id)["protocolMappers"]}


def test_the_realm_has_exactly_the_roles_hoso_knows() -> None:
    for realm in (LOCAL, PRODUCTION):
        assert {r["name"] for r in realm["roles"]["client"]["hoso"]} == {r.value for r in Role}


def test_the_portal_is_a_confidential_client_with_pkce_and_no_password_grant() -> None:
    for realm in (LOCAL, PRODUCTION):
        portal = client(realm, "hoso-portal")
        assert portal["publicClient"] is False
        assert portal["standardFlowEnabled"] is True
        assert portal["directAccessGrantsEnabled"] is False
        assert portal["implicitFlowEnabled"] is False
        assert portal["attributes"]["pkce.code.challenge.method"] == "S256"


def test_tokens_carry_the_audience_roles_agency_and_identifiers_the_services_read() -> None:
    local = mappers(LOCAL, "hoso-portal")
    assert local == mappers(PRODUCTION, "hoso-portal")
    assert local["audience hoso"]["included.client.audience"] == "hoso"
    assert local["roles"]["claim.name"] == "roles"
    claims = {m["claim.name"]: m.get("user.attribute") for m in local.values() if "claim.name" in m}
    assert claims == {
        "roles": None,
        "name": "full_name",
        "agency": "agency",
        "title": "job_title",
        "phone": "phone_number",
        "address.formatted": "address",
        "personal_id": "personal_id",
        "tax_code": "tax_code",
    }


def test_people_cannot_change_their_own_agency_or_identifiers() -> None:
    for realm in (LOCAL, PRODUCTION):
        component = realm["components"]["org.keycloak.userprofile.UserProfileProvider"][0]
        profile = json.loads(component["config"]["kc.user.profile.config"][0])
        attributes = {a["name"]: a for a in profile["attributes"]}
        for name in ("agency", "personal_id", "tax_code", "full_name", "phone_number", "address", "job_title"):
            assert attributes[name]["permissions"]["edit"] == ["admin"], name


def test_production_has_no_demo_accounts_and_no_password_grant_client() -> None:
    # Its only account is the portal's service account (no one signs in with it).
    assert [u.get("serviceAccountClientId") for u in PRODUCTION["users"]] == ["hoso-portal"]
    assert [c["clientId"] for c in PRODUCTION["clients"]] == ["hoso", "hoso-portal"]
    assert PRODUCTION["sslRequired"] == "all"


def test_the_local_realm_has_the_demo_accounts_of_two_agencies() -> None:
    roles: dict[str | None, set[str]] = {}
    for user in LOCAL["users"]:
        if "serviceAccountClientId" in user:
            continue
        agency = user["attributes"].get("agency", [None])[0]
        roles.setdefault(agency, set()).update(user["clientRoles"]["hoso"])
    assert roles[None] == {"applicant"}
    for agency in ("BNNMT", "UBND.HN"):
        # With an outside expert of the agency's appraisal councils.
        assert roles[agency] == {"reception_officer", "specialist", "leader", "admin", "ops", "council_member"}


def test_the_portal_reads_the_officers_directory_and_nothing_more() -> None:
    for realm in (LOCAL, PRODUCTION):
        assert client(realm, "hoso-portal")["serviceAccountsEnabled"] is True
        [account] = [u for u in realm["users"] if u.get("serviceAccountClientId") == "hoso-portal"]
        assert account["clientRoles"] == {
            "realm-management": ["view-users", "query-users", "query-clients", "view-clients"]
        }


def test_every_demo_officer_who_signs_forms_has_a_position() -> None:
    signing = {"reception_officer", "specialist", "leader"}
    officers = [u for u in LOCAL["users"] if signing & set((u.get("clientRoles") or {}).get("hoso", []))]
    assert len(officers) == 6
    assert {u["username"]: bool(u["attributes"].get("job_title", [""])[0]) for u in officers} == {
        u["username"]: True for u in officers
    }
