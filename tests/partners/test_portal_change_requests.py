"""A partner's change of its company or bank details waits for the operator's approval."""

from __future__ import annotations

from partnerhub.accounts.roles import Role
from partnerhub.tenancy.context import tenant_context
from partners.models import BankDetails, ChangeRequest, Notification, Partner
from partners.services.registry import change_request_approve
from tests.conftest import Personas, bearer, login

IBAN = "DE89370400440532013000"


def company_form(**overrides: str) -> dict[str, str]:
    data = {
        "legal_name": "Acme Content Ltd",
        "trading_name": "Acme",
        "registration_number": "",
        "tax_id": "",
        "country": "DE",
        "website": "",
    }
    data.update(overrides)
    return data


def requests_of(personas: Personas) -> list[ChangeRequest]:
    with tenant_context(personas.tenant_a):
        return list(ChangeRequest.objects.filter(partner=personas.a_partner))


def test_company_change_waits_for_approval_then_applies(personas: Personas) -> None:
    client = login(personas.a_partner_user)
    response = client.post(
        "/portal/company/", company_form(trading_name="Acme Studios", tax_id="DE123456789")
    )
    assert response.status_code == 302

    [change] = requests_of(personas)
    assert change.kind == ChangeRequest.Kind.COMPANY
    assert change.status == ChangeRequest.Status.PENDING
    assert change.payload == {"trading_name": "Acme Studios", "tax_id": "DE123456789"}
    assert change.requested_by == personas.a_partner_user
    with tenant_context(personas.tenant_a):
        partner = Partner.objects.get(pk=personas.a_partner.pk)
        assert partner.trading_name == "Acme"  # unchanged until approved
        assert Notification.objects.filter(kind="change_requested", partner=partner).exists()
    page = client.get("/portal/company/").content.decode()
    assert "waiting for approval" in page
    # A second change of the same kind waits until the first is decided.
    again = client.post("/portal/company/", company_form(trading_name="Acme Two"))
    assert again.status_code == 400
    assert len(requests_of(personas)) == 1

    with tenant_context(personas.tenant_a):
        change_request_approve(
            change_request=change, actor=personas.a_manager, actor_role=Role.PARTNER_MANAGER
        )
        partner.refresh_from_db()
    assert (partner.trading_name, partner.tax_id) == ("Acme Studios", "DE123456789")
    assert "Approved" in client.get("/portal/company/").content.decode()


def test_bank_details_change_waits_for_finance_approval(personas: Personas) -> None:
    api = bearer(personas.a_partner_user, personas.tenant_a)
    response = api.post(
        "/api/v1/portal/change-requests/",
        {
            "kind": "bank",
            "payload": {
                "account_holder": "Acme Content Ltd",
                "iban": "de89 3704 0044 0532 0130 00",
            },
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "pending"
    assert body["payload"]["iban"] == "DE89••••3000"  # never echoed in full
    with tenant_context(personas.tenant_a):
        assert not BankDetails.objects.filter(partner=personas.a_partner).exists()
        change = ChangeRequest.objects.get(pk=body["id"])
        assert change.payload["iban"] == IBAN
        # Finance and admins review bank changes.
        reviewers = set(
            Notification.objects.filter(kind="change_requested").values_list(
                "user__email", flat=True
            )
        )
        assert reviewers == {personas.a_finance.email, personas.a_admin.email}
        change_request_approve(
            change_request=change, actor=personas.a_finance, actor_role=Role.FINANCE
        )
        details = BankDetails.objects.get(partner=personas.a_partner)
    assert details.iban == IBAN
    listed = api.get("/api/v1/portal/change-requests/").json()["results"]
    assert [row["status"] for row in listed] == ["approved"]


def test_invalid_bank_details_are_refused_with_the_field_named(personas: Personas) -> None:
    api = bearer(personas.a_partner_user, personas.tenant_a)
    cases = [
        ({"account_holder": "Acme", "iban": "DE00370400440532013000"}, "iban"),
        ({"iban": IBAN}, "account_holder"),
        ({"account_holder": "Acme", "iban": IBAN, "swift_bic": "12"}, "swift_bic"),
        ({"account_holder": "Acme", "iban": IBAN, "owner": "me"}, "payload"),
    ]
    for payload, field in cases:
        response = api.post(
            "/api/v1/portal/change-requests/",
            {"kind": "bank", "payload": payload},
            content_type="application/json",
        )
        assert response.status_code == 400, payload
        assert field in response.json()["error"]["details"], (payload, response.json())
    assert requests_of(personas) == []


def test_company_change_to_another_partners_name_or_bad_country_is_refused(
    personas: Personas,
) -> None:
    client = login(personas.a_partner_user)
    taken = client.post("/portal/company/", company_form(legal_name="Other Media SA"))
    assert taken.status_code == 400
    assert "already registered" in taken.content.decode()
    bad = client.post("/portal/company/", company_form(country="XX1"))
    assert bad.status_code == 400
    same = client.post("/portal/company/", company_form())
    assert same.status_code == 400
    assert "Nothing to change" in same.content.decode()
    assert requests_of(personas) == []


def test_a_foreign_tenant_name_is_no_conflict(personas: Personas) -> None:
    response = login(personas.a_partner_user).post(
        "/portal/company/", company_form(legal_name="Bravo Foreign Co")
    )
    assert response.status_code == 302


def test_change_requests_of_other_partners_are_not_listed(personas: Personas) -> None:
    with tenant_context(personas.tenant_a):
        ChangeRequest.objects.create(
            partner=personas.a_other_partner, kind="company", payload={"trading_name": "Leak"}
        )
    with tenant_context(personas.tenant_b):
        ChangeRequest.objects.create(
            partner=personas.b_partner, kind="company", payload={"trading_name": "Leak B"}
        )
    api = bearer(personas.a_partner_user, personas.tenant_a)
    assert api.get("/api/v1/portal/change-requests/").json()["results"] == []
    assert "Leak" not in login(personas.a_partner_user).get("/portal/company/").content.decode()
