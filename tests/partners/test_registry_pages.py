"""Registry pages: list (filters, query counts, export), detail, forms, uploads, downloads,
tenant isolation and roles."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
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
    PartnerStatus,
    PartnerTier,
    PartnerType,
)
from partners.services import registry as services
from tests.conftest import Personas, login
from tests.partners.factories import ContactFactory, PartnerFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
IBAN = "DE89370400440532013000"


def grow(personas: Personas, count: int) -> None:
    """Add partners to tenant A, each with a tier, an owner, tags, contacts, bank details."""
    with tenant_context(personas.tenant_a):
        tier = PartnerTier.objects.get(name="Gold")
        for _ in range(count):
            partner = PartnerFactory(tier=tier, account_owner=personas.a_manager)
            services.partner_tags_set(partner=partner, names=["5G", f"T{partner.pk}"])
            ContactFactory(partner=partner, is_primary=True)
            BankDetails.objects.create(partner=partner, account_holder="X", iban=IBAN)


def test_sort_headers_keep_the_filters_turn_the_order_and_restart_at_page_one(
    personas: Personas,
) -> None:
    client = login(personas.a_viewer)
    body = client.get("/partners/?status=active&ordering=name&page=1").content.decode()
    assert (
        '<a class="link-body-emphasis text-decoration-none"'
        ' href="?status=active&amp;ordering=-name" aria-label="Partner, sorted ascending">'
        'Partner <i class="bi bi-sort-up" aria-hidden="true"></i></a>'
    ) in body
    assert (
        '<a class="link-body-emphasis text-decoration-none"'
        ' href="?status=active&amp;ordering=type">Type</a>'
    ) in body
    body = client.get("/partners/?ordering=-tier&country=DE").content.decode()
    assert (
        '<a class="link-body-emphasis text-decoration-none" href="?ordering=tier&amp;country=DE"'
        ' aria-label="Tier, sorted descending">Tier <i class="bi bi-sort-down"'
        ' aria-hidden="true"></i></a>'
    ) in body
    # No ordering asked: the page is by name, so the name header offers the reverse.
    assert (
        'href="?ordering=-name" aria-label="Partner, sorted ascending"'
        in client.get("/partners/").content.decode()
    )
    assert body.count("sorted ") == 1


def test_list_shows_only_the_tenants_partners(personas: Personas) -> None:
    response = login(personas.a_viewer).get("/partners/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Acme" in body and "Other" in body
    assert "Foreign" not in body and "Bravo Foreign" not in body


def test_list_filters_by_type_status_country_tag_and_search(personas: Personas) -> None:
    with tenant_context(personas.tenant_a):
        vendor = PartnerType.objects.get(key="technology_vendor")
        PartnerFactory(
            legal_name="Zeta Radio Oy",
            trading_name="Zeta",
            partner_type=vendor,
            country="FI",
            status=PartnerStatus.VETTING,
        )
        services.partner_tags_set(partner=personas.a_partner, names=["Video"])
        tag_id = personas.a_partner.tags.get().pk
    client = login(personas.a_manager)

    def names(query: str) -> list[str]:
        page = client.get(f"/partners/?{query}")
        assert page.status_code == 200
        return [str(p) for p in page.context["object_list"]]

    assert names(f"partner_type={vendor.pk}") == ["Zeta"]
    assert names("status=vetting") == ["Zeta"]
    assert names("country=fi") == ["Zeta"]
    assert names(f"tag={tag_id}") == ["Acme"]
    assert names("search=other media") == ["Other"]
    assert names("ordering=-name") == ["Zeta", "Other", "Acme"]


def test_list_page_runs_a_fixed_number_of_queries(
    personas: Personas, django_assert_num_queries
) -> None:
    client = login(personas.a_manager)
    grow(personas, 23)
    with CaptureQueriesContext(connection) as full:
        response = client.get("/partners/")
    assert len(response.context["object_list"]) == 25  # a full page of 25 partners
    grow(personas, 27)
    with django_assert_num_queries(len(full.captured_queries)):
        response = client.get("/partners/", {"page": 2})
    assert len(response.context["object_list"]) == 25  # a full page of 52 partners
    body = response.content.decode()
    assert body.count('data-testid="status-badge"') == 25 and ">5G</span>" in body
    # The last page is shorter than 25: its rows give the count, one query less.
    with django_assert_num_queries(len(full.captured_queries) - 1):
        response = client.get("/partners/", {"page": 3})
    assert len(response.context["object_list"]) == 2
    assert response.context["page_obj"].paginator.count == 52
    assert "Showing 51\u201352 of 52 partners" in response.content.decode()


def test_export_buttons_download_the_filtered_list(personas: Personas) -> None:
    with tenant_context(personas.tenant_a):
        PartnerFactory(legal_name="=HYPERLINK(evil)", trading_name="", country="FR")
    client = login(personas.a_viewer)

    csv_response = client.get("/partners/export/?country=FR&file_format=csv")
    assert csv_response.status_code == 200
    assert csv_response["Content-Type"].startswith("text/csv")
    assert "attachment" in csv_response["Content-Disposition"]
    text = b"".join(csv_response.streaming_content).decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert lines[0].startswith("ID,Legal name,Trading name")
    assert len(lines) == 2 and "'=HYPERLINK(evil)" in lines[1]

    xlsx_response = client.get("/partners/export/?file_format=xlsx&search=acme")
    assert xlsx_response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx_response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert [r[1] for r in rows[1:]] == ["Acme Content Ltd"]
    assert client.get("/partners/export/?file_format=pdf").status_code == 400


def test_export_runs_a_fixed_number_of_queries(
    personas: Personas, django_assert_max_num_queries
) -> None:
    client = login(personas.a_viewer)
    grow(personas, 3)
    with CaptureQueriesContext(connection) as few:
        client.get("/partners/export/?file_format=xlsx")
    grow(personas, 27)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/partners/export/?file_format=xlsx")
    assert openpyxl.load_workbook(io.BytesIO(response.content)).active.max_row == 33


def test_detail_shows_the_partner_on_one_screen(personas: Personas) -> None:
    with tenant_context(personas.tenant_a):
        services.contact_create(partner=personas.a_partner, name="Pia Primary", email="p@a.test")
        services.bank_details_set(
            partner=personas.a_partner, actor_role=Role.FINANCE, account_holder="Acme", iban=IBAN
        )
        ChangeRequest.objects.create(
            partner=personas.a_partner, kind="company", payload={"trading_name": "Acme New"}
        )
    response = login(personas.a_manager).get(f"/partners/{personas.a_partner.pk}/")
    assert response.status_code == 200
    body = response.content.decode()
    for expected in ("Acme Content Ltd", "Pia Primary", "DE89••••3000", "Acme New", "History"):
        assert expected in body
    assert IBAN not in body  # masked for everyone on the page
    for fragment in ("onboarding", "agreements", "interactions", "disputes"):
        assert f'hx-get="/partners/{personas.a_partner.pk}/{fragment}/"' in body


def test_another_tenants_partner_is_not_found(personas: Personas) -> None:
    client = login(personas.a_admin)
    pk = personas.b_partner.pk
    for url in (f"/partners/{pk}/", f"/partners/{pk}/edit/", f"/partners/{pk}/contacts/add/"):
        assert client.get(url).status_code == 404
    assert client.post(f"/partners/{pk}/contacts/add/", {"name": "X"}).status_code == 404
    with tenant_context(personas.tenant_b):
        assert not Contact.objects.filter(name="X").exists()


def test_viewer_cannot_create_or_edit(personas: Personas) -> None:
    client = login(personas.a_viewer)
    pk = personas.a_partner.pk
    assert client.get("/partners/new/").status_code == 403
    assert client.post("/partners/new/", {"legal_name": "X"}).status_code == 403
    assert client.post(f"/partners/{pk}/edit/", {"legal_name": "X"}).status_code == 403
    assert client.post(f"/partners/{pk}/contacts/add/", {"name": "X"}).status_code == 403
    assert client.get(f"/partners/{pk}/bank-details/").status_code == 403
    with tenant_context(personas.tenant_a):
        assert not Partner.objects.filter(legal_name="X").exists()


def test_partner_users_cannot_open_csp_pages(personas: Personas) -> None:
    client = login(personas.a_partner_user)
    pk = personas.a_partner.pk
    for url in ("/partners/", f"/partners/{pk}/", "/partners/export/?file_format=csv"):
        assert client.get(url).status_code == 403


def test_manager_creates_a_partner_and_bad_input_is_explained(personas: Personas) -> None:
    client = login(personas.a_manager)
    with tenant_context(personas.tenant_a):
        content = PartnerType.objects.get(key="content_provider")
        gold = PartnerTier.objects.get(name="Gold")
    bad = client.post(
        "/partners/new/",
        {"legal_name": "New Co", "partner_type": content.pk, "country": "Germany"},
    )
    assert bad.status_code == 400
    assert "ISO 3166" in bad.content.decode()
    response = client.post(
        "/partners/new/",
        {
            "legal_name": "New Co",
            "partner_type": content.pk,
            "tier": gold.pk,
            "country": "de",
            "account_owner": personas.a_manager.pk,
            "tags": "Video, 5G",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    with tenant_context(personas.tenant_a):
        partner = Partner.objects.get(legal_name="New Co")
        assert sorted(t.name for t in partner.tags.all()) == ["5G", "Video"]
    assert response.status_code == 302 and response["Location"] == f"/partners/{partner.pk}/"
    assert (partner.country, partner.status, partner.tier_id) == ("DE", "applied", gold.pk)


def test_a_foreign_type_id_in_the_form_is_refused(personas: Personas) -> None:
    with tenant_context(personas.tenant_b):
        foreign_type = PartnerType.objects.get(key="content_provider")
    response = login(personas.a_manager).post(
        "/partners/new/",
        {"legal_name": "Sneaky", "partner_type": foreign_type.pk, "country": "DE"},
    )
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()


def test_manager_edits_a_partner(personas: Personas) -> None:
    client = login(personas.a_manager)
    pk = personas.a_partner.pk
    form = client.get(f"/partners/{pk}/edit/")
    assert form.status_code == 200
    data = {**form.context["form"].initial, "trading_name": "Acme Renamed", "tags": "Video"}
    data = {k: ("" if v is None else v) for k, v in data.items()}
    assert client.post(f"/partners/{pk}/edit/", data).status_code == 302
    with tenant_context(personas.tenant_a):
        assert Partner.objects.get(pk=pk).trading_name == "Acme Renamed"


def test_contacts_are_added_edited_and_removed(personas: Personas) -> None:
    client = login(personas.a_manager)
    pk = personas.a_partner.pk
    response = client.post(
        f"/partners/{pk}/contacts/add/",
        {"name": "Nina Novak", "role": "CFO", "email": "nina@acme.test"},
    )
    assert response.status_code == 302
    with tenant_context(personas.tenant_a):
        contact = Contact.objects.get(name="Nina Novak")
    assert contact.is_primary
    bad = client.post(f"/partners/{pk}/contacts/{contact.pk}/edit/", {"name": "", "email": "x"})
    assert bad.status_code == 400
    client.post(f"/partners/{pk}/contacts/{contact.pk}/edit/", {"name": "Nina N.", "role": "CFO"})
    with tenant_context(personas.tenant_a):
        assert Contact.objects.get(pk=contact.pk).name == "Nina N."
    # Another partner's contact is not reachable through this partner's URL.
    other = f"/partners/{personas.a_other_partner.pk}/contacts/{contact.pk}/delete/"
    assert client.post(other).status_code == 404
    assert client.post(f"/partners/{pk}/contacts/{contact.pk}/delete/").status_code == 302
    with tenant_context(personas.tenant_a):
        assert not Contact.objects.filter(pk=contact.pk).exists()
    # The partner's history still shows the contact's whole life, its deletion included.
    history = client.get(f"/partners/{pk}/").context["audit_entries"]
    contact_actions = [
        e.get_action_display()
        for e in history
        if e.object_pk == str(contact.pk) and e.content_type.model == "contact"
    ]
    assert contact_actions == ["delete", "update", "create"]


def test_finance_sets_bank_details_and_managers_cannot(personas: Personas) -> None:
    pk = personas.a_partner.pk
    data = {"account_holder": "Acme", "iban": "DE89 3704 0044 0532 0130 00", "currency": "EUR"}
    assert login(personas.a_manager).post(f"/partners/{pk}/bank-details/", data).status_code == 403
    finance = login(personas.a_finance)
    bad = finance.post(f"/partners/{pk}/bank-details/", {**data, "iban": "DE00123"})
    assert bad.status_code == 400 and "not a valid IBAN" in bad.content.decode()
    assert finance.post(f"/partners/{pk}/bank-details/", data).status_code == 302
    with tenant_context(personas.tenant_a):
        assert BankDetails.objects.get(partner_id=pk).iban == IBAN
    page = finance.get(f"/partners/{pk}/bank-details/").content.decode()
    assert IBAN not in page  # not even finance gets it back into the page


def upload(client, pk: int, name: str, content: bytes, **extra: str):
    data = {"file": SimpleUploadedFile(name, content), "doc_type": "tax_form", **extra}
    return client.post(f"/partners/{pk}/documents/upload/", data)


def test_upload_stores_a_pdf_and_download_serves_it_as_an_attachment(
    personas: Personas, settings, tmp_path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    client = login(personas.a_manager)
    response = upload(client, personas.a_partner.pk, "tax 2025.pdf", PDF, title="Tax form 2025")
    assert response.status_code == 302
    with tenant_context(personas.tenant_a):
        document = Document.objects.get(partner=personas.a_partner)
    detail = client.get(f"/partners/{personas.a_partner.pk}/").content.decode()
    assert "Tax form 2025" in detail and f"/partners/documents/{document.pk}/download/" in detail

    download = login(personas.a_viewer).get(f"/partners/documents/{document.pk}/download/")
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Disposition"].startswith("attachment;")
    assert "tax 2025.pdf" in download["Content-Disposition"]
    assert b"".join(download.streaming_content) == PDF


DISGUISED = [
    ("report.pdf", b"<html><script>alert(1)</script></html>", "File type not allowed"),
    ("setup.pdf", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64, "File type not allowed"),
    ("scan.png", PDF, "named .png but its content is PDF"),
]


def test_disguised_files_are_refused_and_nothing_is_stored(
    personas: Personas, settings, tmp_path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    client = login(personas.a_manager)
    for name, content, message in DISGUISED:
        response = upload(client, personas.a_partner.pk, name, content)
        assert response.status_code == 400, name
        assert message in response.content.decode()
    with tenant_context(personas.tenant_a):
        assert not Document.objects.exists()
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_an_oversized_file_is_refused(personas: Personas, settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path
    with tenant_context(personas.tenant_a):
        from partners.models import ProgramSettings

        ProgramSettings.objects.update(max_upload_mb=1)
    big = PDF[:-6] + b"\0" * (1024 * 1024) + b"%%EOF\n"
    response = upload(login(personas.a_manager), personas.a_partner.pk, "big.pdf", big)
    assert response.status_code == 400
    assert "larger than the 1 MB limit" in response.content.decode()
    with tenant_context(personas.tenant_a):
        assert not Document.objects.exists()
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_documents_of_another_tenant_cannot_be_downloaded(
    personas: Personas, settings, tmp_path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    with tenant_context(personas.tenant_b):
        foreign = services.partner_document_add(
            partner=personas.b_partner,
            upload=SimpleUploadedFile("b.pdf", PDF),
            doc_type="other",
            uploaded_by=personas.b_manager,
        )
    client = login(personas.a_admin)
    assert client.get(f"/partners/documents/{foreign.pk}/download/").status_code == 404
    assert client.post(f"/partners/documents/{foreign.pk}/delete/").status_code == 404
    # The partner's own portal user does not use the CSP download either.
    assert (
        login(personas.a_partner_user)
        .get(f"/partners/documents/{foreign.pk}/download/")
        .status_code
        == 403
    )


def test_change_requests_are_approved_on_the_partner_page(personas: Personas) -> None:
    with tenant_context(personas.tenant_a):
        change = ChangeRequest.objects.create(
            partner=personas.a_partner, kind="company", payload={"trading_name": "Acme Plus"}
        )
    url = f"/partners/change-requests/{change.pk}/approve/"
    assert login(personas.a_viewer).post(url).status_code == 403
    assert login(personas.a_manager).post(url).status_code == 302
    with tenant_context(personas.tenant_a):
        assert Partner.objects.get(pk=personas.a_partner.pk).trading_name == "Acme Plus"
        change.refresh_from_db()
        assert change.status == "approved"


def test_admins_manage_types_and_tiers_on_the_settings_page(personas: Personas) -> None:
    admin = login(personas.a_admin)
    assert admin.get("/partners/settings/").status_code == 200
    assert login(personas.a_manager).get("/partners/settings/").status_code == 403
    admin.post("/partners/settings/", {"action": "add_type", "name": "MVNO"})
    admin.post("/partners/settings/", {"action": "add_tier", "name": "Platinum", "rank": 9})
    duplicate = admin.post("/partners/settings/", {"action": "add_tier", "name": "platinum"})
    assert duplicate.status_code == 400 and "already exists" in duplicate.content.decode()
    with tenant_context(personas.tenant_a):
        assert PartnerType.objects.filter(key="mvno", is_builtin=False).exists()
        assert PartnerTier.objects.get(name="Platinum").rank == 9
