"""Registry API: partners, contacts, documents, bank details, types, tiers, tags, change
requests, export; tenant isolation, roles and query counts."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from partnerhub.accounts.roles import Role
from partnerhub.tenancy.context import tenant_context
from partners.models import (
    BankDetails,
    ChangeRequest,
    Contact,
    Document,
    Partner,
    PartnerTier,
    PartnerType,
)
from partners.services import registry as services
from tests.conftest import Personas, bearer
from tests.partners.test_registry_pages import IBAN, PDF, grow

pytestmark = pytest.mark.django_db


def ids(personas: Personas, tenant: str) -> dict[str, int]:
    with tenant_context(getattr(personas, f"tenant_{tenant}")):
        return {
            "type": PartnerType.objects.get(key="technology_vendor").pk,
            "tier": PartnerTier.objects.get(name="Silver").pk,
        }


def new_partner(personas: Personas, **extra: object) -> dict[str, object]:
    return {
        "legal_name": "Arctis Networks Oy",
        "country": "fi",
        "partner_type": ids(personas, "a")["type"],
        "tier": ids(personas, "a")["tier"],
        "account_owner": personas.a_manager.pk,
        "tags": ["5G", "RAN"],
        **extra,
    }


def test_manager_creates_a_partner_through_the_api(personas: Personas) -> None:
    api = bearer(personas.a_manager, personas.tenant_a)
    response = api.post("/api/v1/partners/", new_partner(personas), content_type="application/json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "applied" and body["country"] == "FI"
    assert body["partner_type"]["key"] == "technology_vendor"
    assert body["tier"]["name"] == "Silver"
    assert body["account_owner"]["email"] == personas.a_manager.email
    assert body["tags"] == ["5G", "RAN"]
    fetched = api.get(f"/api/v1/partners/{body['id']}/").json()
    assert fetched["legal_name"] == "Arctis Networks Oy"


def test_foreign_ids_in_a_partner_body_are_refused_as_missing(personas: Personas) -> None:
    foreign = {
        "partner_type": ids(personas, "b")["type"],
        "tier": ids(personas, "b")["tier"],
        "parent": personas.b_partner.pk,
        "account_owner": personas.b_manager.pk,
    }
    api = bearer(personas.a_manager, personas.tenant_a)
    for field, foreign_id in foreign.items():
        response = api.post(
            "/api/v1/partners/",
            new_partner(personas, **{field: foreign_id}),
            content_type="application/json",
        )
        assert response.status_code == 400, field
        assert "does not exist" in response.json()["error"]["details"][field][0]
    with tenant_context(personas.tenant_a):
        assert not Partner.objects.filter(legal_name="Arctis Networks Oy").exists()


def test_another_tenants_partner_answers_404_everywhere(personas: Personas) -> None:
    api = bearer(personas.a_admin, personas.tenant_a)
    pk = personas.b_partner.pk
    for url in (
        f"/api/v1/partners/{pk}/",
        f"/api/v1/partners/{pk}/contacts/",
        f"/api/v1/partners/{pk}/documents/",
        f"/api/v1/partners/{pk}/bank-details/",
    ):
        response = api.get(url)
        assert response.status_code == 404, url
        assert response.json()["error"]["status"] == 404
    missing = api.get("/api/v1/partners/999999/")
    assert api.get(f"/api/v1/partners/{pk}/").json() == missing.json()
    patch = api.patch(f"/api/v1/partners/{pk}/", {"trading_name": "X"}, "application/json")
    assert patch.status_code == 404
    post = api.post(f"/api/v1/partners/{pk}/contacts/", {"name": "X"}, "application/json")
    assert post.status_code == 404
    with tenant_context(personas.tenant_b):
        assert not Contact.objects.filter(name="X").exists()


def test_list_shows_only_the_tenants_partners_with_masked_bank_details(
    personas: Personas,
) -> None:
    with tenant_context(personas.tenant_a):
        BankDetails.objects.create(partner=personas.a_partner, account_holder="Acme", iban=IBAN)
    for user in (personas.a_viewer, personas.a_finance):
        response = bearer(user, personas.tenant_a).get("/api/v1/partners/")
        results = response.json()["results"]
        assert sorted(p["legal_name"] for p in results) == ["Acme Content Ltd", "Other Media SA"]
        acme = next(p for p in results if p["trading_name"] == "Acme")
        assert acme["bank_details"]["iban_masked"] == "DE89••••3000"
        assert IBAN not in response.content.decode()


def test_list_endpoint_filters_searches_and_orders(personas: Personas) -> None:
    api = bearer(personas.a_viewer, personas.tenant_a)
    with tenant_context(personas.tenant_a):
        services.partner_tags_set(partner=personas.a_other_partner, names=["Video"])
        tag = personas.a_other_partner.tags.get()

    def names(query: str) -> list[str]:
        response = api.get(f"/api/v1/partners/?{query}")
        assert response.status_code == 200, response.json()
        return [p["trading_name"] for p in response.json()["results"]]

    assert names(f"tag={tag.pk}") == ["Other"]
    assert names("search=acme") == ["Acme"]
    assert names("ordering=-name") == ["Other", "Acme"]
    assert names("status=rejected") == []
    bad = api.get(f"/api/v1/partners/?partner_type={ids(personas, 'b')['type']}")
    assert bad.status_code == 400  # another tenant's type is not a valid choice


def test_list_endpoint_runs_a_fixed_number_of_queries(
    personas: Personas, django_assert_max_num_queries
) -> None:
    api = bearer(personas.a_viewer, personas.tenant_a)
    grow(personas, 3)
    with CaptureQueriesContext(connection) as few:
        assert api.get("/api/v1/partners/?page_size=100").status_code == 200
    grow(personas, 27)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = api.get("/api/v1/partners/?page_size=100")
    assert response.json()["count"] == 32


def test_viewer_and_partner_users_cannot_write(personas: Personas) -> None:
    viewer = bearer(personas.a_viewer, personas.tenant_a)
    pk = personas.a_partner.pk
    assert (
        viewer.post("/api/v1/partners/", new_partner(personas), "application/json").status_code
        == 403
    )
    assert (
        viewer.patch(f"/api/v1/partners/{pk}/", {"tax_id": "1"}, "application/json").status_code
        == 403
    )
    assert (
        viewer.post(
            f"/api/v1/partners/{pk}/contacts/", {"name": "X"}, "application/json"
        ).status_code
        == 403
    )
    portal = bearer(personas.a_partner_user, personas.tenant_a)
    for url in ("/api/v1/partners/", f"/api/v1/partners/{pk}/", "/api/v1/change-requests/"):
        assert portal.get(url).status_code == 403
    with tenant_context(personas.tenant_a):
        assert Partner.objects.get(pk=pk).tax_id == ""


def test_partners_cannot_be_deleted(personas: Personas) -> None:
    api = bearer(personas.a_admin, personas.tenant_a)
    assert api.delete(f"/api/v1/partners/{personas.a_partner.pk}/").status_code == 405


def test_partial_update_changes_fields_and_tags(personas: Personas) -> None:
    api = bearer(personas.a_manager, personas.tenant_a)
    pk = personas.a_partner.pk
    response = api.patch(
        f"/api/v1/partners/{pk}/",
        {
            "website": "https://acme.example",
            "tags": ["Video"],
            "parent": personas.a_other_partner.pk,
        },
        "application/json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["website"], body["tags"], body["parent"]) == (
        "https://acme.example",
        ["Video"],
        personas.a_other_partner.pk,
    )
    self_parent = api.patch(f"/api/v1/partners/{pk}/", {"parent": pk}, "application/json")
    assert self_parent.status_code == 400
    assert "own parent" in self_parent.json()["error"]["details"]["parent"][0]


def test_contacts_crud_keeps_one_primary(personas: Personas) -> None:
    api = bearer(personas.a_manager, personas.tenant_a)
    base = f"/api/v1/partners/{personas.a_partner.pk}/contacts/"
    first = api.post(base, {"name": "Ann", "email": "ann@acme.test"}, "application/json").json()
    second = api.post(base, {"name": "Bob", "is_primary": True}, "application/json").json()
    assert second["is_primary"]
    listed = api.get(base).json()["results"]
    assert [(c["name"], c["is_primary"]) for c in listed] == [("Bob", True), ("Ann", False)]
    api.patch(f"{base}{first['id']}/", {"is_primary": True}, "application/json")
    assert api.get(f"{base}{second['id']}/").json()["is_primary"] is False
    bad = api.patch(f"{base}{first['id']}/", {"email": "nope"}, "application/json")
    assert bad.status_code == 400 and "email" in bad.json()["error"]["details"]
    # A contact is reachable only under its own partner.
    other = f"/api/v1/partners/{personas.a_other_partner.pk}/contacts/{first['id']}/"
    assert api.get(other).status_code == 404
    assert api.delete(f"{base}{first['id']}/").status_code == 204
    assert [c["name"] for c in api.get(base).json()["results"]] == ["Bob"]


def test_documents_upload_list_download_and_delete(personas: Personas, settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path
    api = bearer(personas.a_manager, personas.tenant_a)
    base = f"/api/v1/partners/{personas.a_partner.pk}/documents/"
    upload = io.BytesIO(PDF)
    upload.name = "licence.pdf"
    response = api.post(base, {"file": upload, "doc_type": "content_licence", "title": "Licence"})
    assert response.status_code == 201, response.json()
    document = response.json()
    assert (document["content_type"], document["size"]) == ("application/pdf", len(PDF))
    assert [d["id"] for d in api.get(base).json()["results"]] == [document["id"]]

    download = bearer(personas.a_viewer, personas.tenant_a).get(document["download_url"])
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Disposition"] == 'attachment; filename="licence.pdf"'
    assert b"".join(download.streaming_content) == PDF

    # Not through another partner's URL, and not for another tenant.
    wrong = f"/api/v1/partners/{personas.a_other_partner.pk}/documents/{document['id']}/download/"
    assert api.get(wrong).status_code == 404
    b_api = bearer(personas.b_manager, personas.tenant_b)
    assert b_api.get(document["download_url"]).status_code == 404

    assert api.delete(f"{base}{document['id']}/").status_code == 204
    with tenant_context(personas.tenant_a):
        assert not Document.objects.exists()


def test_a_disguised_upload_gets_a_clear_error(personas: Personas, settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path
    api = bearer(personas.a_manager, personas.tenant_a)
    upload = io.BytesIO(b"MZ\x90\x00" + b"\x00" * 100)
    upload.name = "invoice.pdf"
    response = api.post(
        f"/api/v1/partners/{personas.a_partner.pk}/documents/",
        {"file": upload, "doc_type": "other"},
    )
    assert response.status_code == 400
    assert "File type not allowed" in response.json()["error"]["details"]["file"][0]
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_bank_details_are_masked_unless_finance_and_only_finance_sets_them(
    personas: Personas,
) -> None:
    url = f"/api/v1/partners/{personas.a_partner.pk}/bank-details/"
    body = {"account_holder": "Acme", "iban": "DE89 3704 0044 0532 0130 00", "currency": "EUR"}
    manager = bearer(personas.a_manager, personas.tenant_a)
    assert manager.get(url).status_code == 404  # none yet
    assert manager.put(url, body, "application/json").status_code == 403
    finance = bearer(personas.a_finance, personas.tenant_a)
    saved = finance.put(url, body, "application/json")
    assert saved.status_code == 200, saved.json()
    assert saved.json()["iban"] == IBAN and saved.json()["is_masked"] is False
    masked = manager.get(url).json()
    assert masked["iban"] == "DE89••••3000" and masked["is_masked"] is True
    bad = finance.put(url, {**body, "iban": "DE00"}, "application/json")
    assert bad.status_code == 400 and "iban" in bad.json()["error"]["details"]


def test_types_tiers_and_tags(personas: Personas) -> None:
    admin = bearer(personas.a_admin, personas.tenant_a)
    manager = bearer(personas.a_manager, personas.tenant_a)
    types = manager.get("/api/v1/partner-types/").json()["results"]
    assert len(types) == 5 and all(t["is_builtin"] for t in types)
    assert (
        manager.post("/api/v1/partner-types/", {"name": "MVNO"}, "application/json").status_code
        == 403
    )
    created = admin.post("/api/v1/partner-types/", {"name": "MVNO"}, "application/json")
    assert created.status_code == 201 and created.json()["key"] == "mvno"
    assert admin.delete(f"/api/v1/partner-types/{types[0]['id']}/").status_code == 400
    tier = admin.post("/api/v1/partner-tiers/", {"name": "Platinum", "rank": 4}, "application/json")
    assert tier.status_code == 201
    renamed = admin.patch(
        f"/api/v1/partner-tiers/{tier.json()['id']}/", {"rank": 5}, "application/json"
    )
    assert renamed.json() == {"id": tier.json()["id"], "name": "Platinum", "rank": 5}
    tag = manager.post("/api/v1/tags/", {"name": "Edge"}, "application/json")
    assert tag.status_code == 201
    assert manager.post("/api/v1/tags/", {"name": "edge"}, "application/json").status_code == 400
    b_types = bearer(personas.b_manager, personas.tenant_b).get("/api/v1/partner-types/").json()
    assert "mvno" not in [t["key"] for t in b_types["results"]]


def test_change_requests_are_listed_and_approved_through_the_api(personas: Personas) -> None:
    with tenant_context(personas.tenant_a):
        company = ChangeRequest.objects.create(
            partner=personas.a_partner, kind="company", payload={"tax_id": "DE123"}
        )
        bank = ChangeRequest.objects.create(
            partner=personas.a_partner,
            kind="bank",
            payload={"account_holder": "Acme", "iban": IBAN},
        )
    with tenant_context(personas.tenant_b):
        ChangeRequest.objects.create(partner=personas.b_partner, kind="company", payload={})
    manager = bearer(personas.a_manager, personas.tenant_a)
    listed = manager.get("/api/v1/change-requests/?status=pending").json()["results"]
    assert sorted(c["id"] for c in listed) == sorted([company.pk, bank.pk])
    masked = next(c for c in listed if c["kind"] == "bank")["payload"]["iban"]
    assert masked == "DE89••••3000"

    assert manager.post(f"/api/v1/change-requests/{bank.pk}/approve/").status_code == 403
    approved = manager.post(f"/api/v1/change-requests/{company.pk}/approve/")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    again = manager.post(f"/api/v1/change-requests/{company.pk}/approve/")
    assert again.status_code == 400 and "already Approved" in again.json()["error"]["message"]

    finance = bearer(personas.a_finance, personas.tenant_a)
    no_reason = finance.post(f"/api/v1/change-requests/{bank.pk}/reject/", {}, "application/json")
    assert no_reason.status_code == 400
    rejected = finance.post(
        f"/api/v1/change-requests/{bank.pk}/reject/",
        {"comment": "Wrong holder."},
        "application/json",
    )
    assert rejected.json()["status"] == "rejected"
    with tenant_context(personas.tenant_a):
        assert Partner.objects.get(pk=personas.a_partner.pk).tax_id == "DE123"
        assert not BankDetails.objects.exists()
    viewer = bearer(personas.a_viewer, personas.tenant_a)
    with tenant_context(personas.tenant_a):
        pending = ChangeRequest.objects.create(
            partner=personas.a_partner, kind="company", payload={"tax_id": "X"}
        )
    assert viewer.post(f"/api/v1/change-requests/{pending.pk}/approve/").status_code == 403


def test_export_endpoint_returns_the_filtered_list(personas: Personas) -> None:
    api = bearer(personas.a_viewer, personas.tenant_a)
    csv_response = api.get("/api/v1/partners/export/?file_format=csv&search=other")
    assert csv_response.status_code == 200
    lines = b"".join(csv_response.streaming_content).decode("utf-8-sig").strip().splitlines()
    assert len(lines) == 2 and "Other Media SA" in lines[1]
    xlsx = api.get("/api/v1/partners/export/?file_format=xlsx")
    rows = list(openpyxl.load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(values_only=True))
    assert sorted(r[1] for r in rows[1:]) == ["Acme Content Ltd", "Other Media SA"]
    assert api.get("/api/v1/partners/export/?file_format=doc").status_code == 400


def test_finance_role_reads_full_iban_but_viewer_gets_it_masked_in_requests(
    personas: Personas,
) -> None:
    with tenant_context(personas.tenant_a):
        services.bank_details_set(
            partner=personas.a_partner, actor_role=Role.ADMIN, account_holder="A", iban=IBAN
        )
    url = f"/api/v1/partners/{personas.a_partner.pk}/bank-details/"
    assert bearer(personas.a_admin, personas.tenant_a).get(url).json()["iban"] == IBAN
    assert bearer(personas.a_viewer, personas.tenant_a).get(url).json()["iban"] != IBAN
