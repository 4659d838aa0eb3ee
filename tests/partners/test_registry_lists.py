"""A partner's contacts and documents are filterable and exportable, page and API alike, like its
interaction log: checked as tenant A with tenant B's (and another partner's) rows present, with
a fixed number of queries, for viewers (export, no change) and partner users (refused)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from partnerhub.tenancy.context import tenant_context
from partners.models import BankDetails, Document, Partner
from tests.conftest import Personas, bearer, login
from tests.partners.factories import ContactFactory
from tests.partners.test_list_twins import csv_rows, xlsx_rows

pytestmark = pytest.mark.django_db
IBAN = "DE89370400440532013000"
STORED_AT = "tenants/secret-folder/partners/storage-name-{n}"


def add_document(partner: Partner, title: str, n: int, **fields: Any) -> Document:
    """A document row (the exports read metadata only, so no file is stored)."""
    values: dict[str, Any] = {
        "doc_type": "tax_form",
        "original_name": f"{title.lower().replace(' ', '-')}.pdf",
        "content_type": "application/pdf",
        "size": 1000 + n,
        "sha256": f"{n:064d}",
        **fields,
    }
    return Document.objects.create(
        partner=partner, title=title, file=STORED_AT.format(n=n), **values
    )


@pytest.fixture
def contacts(personas: Personas) -> None:
    with tenant_context(personas.tenant_a):
        ContactFactory(
            partner=personas.a_partner,
            name="Jane Primary",
            email="jane@acme.test",
            role="Head of Partnerships",
            phone="+49 30 1234567",
            is_primary=True,
        )
        ContactFactory(
            partner=personas.a_partner,
            name="=cmd|' /C calc'!A0",
            email="billing@acme.test",
            role="Billing",
        )
        ContactFactory(partner=personas.a_partner, name="Bob Tech", email="bob@acme.test")
        ContactFactory(partner=personas.a_other_partner, name="Other Partner Person")
        BankDetails.objects.create(partner=personas.a_partner, account_holder="Acme", iban=IBAN)
    with tenant_context(personas.tenant_b):
        ContactFactory(partner=personas.b_partner, name="Foreign Person")


@pytest.fixture
def documents(personas: Personas) -> None:
    today = timezone.localdate()
    with tenant_context(personas.tenant_a):
        add_document(
            personas.a_partner,
            "Old licence",
            1,
            doc_type="content_licence",
            expires_on=today - timedelta(days=1),
            uploaded_by=personas.a_manager,
        )
        add_document(personas.a_partner, "Insurance soon", 2, expires_on=today + timedelta(days=10))
        add_document(personas.a_partner, "Tax form 2026", 3, expires_on=today + timedelta(days=200))
        add_document(personas.a_partner, "Registration", 4, original_name="hrb-extract.pdf")
        add_document(personas.a_other_partner, "Other partner's file", 5)
    with tenant_context(personas.tenant_b):
        add_document(personas.b_partner, "Foreign file", 6)


# --- contacts ---------------------------------------------------------------------------------


def test_contact_panel_filters_and_links_its_exports(personas: Personas, contacts: None) -> None:
    a = personas.a_partner.pk
    page = login(personas.a_manager)

    detail = page.get(f"/partners/{a}/").content.decode()
    assert 'data-testid="contact-filter"' in detail and "Bob Tech" in detail
    assert f"/partners/{a}/contacts/export/?file_format=csv" in detail

    panel = page.get(f"/partners/{a}/contacts/?search=ACME.test&is_primary=false").content.decode()
    assert "Bob Tech" in panel and "Jane Primary" not in panel
    assert "Other Partner Person" not in panel and "Foreign Person" not in panel
    assert f"/partners/{a}/contacts/export/?search=ACME.test&amp;is_primary=false&amp;" in panel
    by_role = page.get(f"/partners/{a}/contacts/?role=billing").content.decode()
    assert "calc" in by_role and "Bob Tech" not in by_role
    empty = page.get(f"/partners/{a}/contacts/?search=nobody").content.decode()
    assert "No contact matches these filters." in empty


def test_contact_exports_follow_the_filters_and_never_show_bank_details(
    personas: Personas, contacts: None
) -> None:
    a, b = personas.a_partner.pk, personas.b_partner.pk
    page = login(personas.a_manager)

    response = page.get(f"/partners/{a}/contacts/export/?file_format=csv")
    rows = csv_rows(response)
    assert rows[0] == ["ID", "Name", "Role", "Email", "Phone", "Primary"]
    assert [(r[1], r[5]) for r in rows[1:]] == [
        ("Jane Primary", "yes"),
        ("'=cmd|' /C calc'!A0", "no"),  # a formula is defused
        ("Bob Tech", "no"),
    ]
    # A leading "+" could start a formula: the shared exporter defuses phone numbers too.
    assert rows[1][2:5] == ["Head of Partnerships", "jane@acme.test", "'+49 30 1234567"]
    body = "\n".join(",".join(r) for r in rows)
    assert IBAN not in body and "DE89" not in body
    primary = xlsx_rows(page.get(f"/partners/{a}/contacts/export/?file_format=xlsx&is_primary=1"))
    assert [r[1] for r in primary[1:]] == ["Jane Primary"]
    assert page.get(f"/partners/{a}/contacts/export/?file_format=pdf").status_code == 400
    assert page.get(f"/partners/{b}/contacts/export/").status_code == 404

    api = bearer(personas.a_viewer, personas.tenant_a)
    listed = api.get(f"/api/v1/partners/{a}/contacts/?search=bob").json()
    assert [c["name"] for c in listed["results"]] == ["Bob Tech"]
    billing = csv_rows(api.get(f"/api/v1/partners/{a}/contacts/export/?role=bill"))
    assert [r[3] for r in billing[1:]] == ["billing@acme.test"]
    everything = xlsx_rows(api.get(f"/api/v1/partners/{a}/contacts/export/?file_format=xlsx"))
    assert len(everything) == 4  # header and A's partner's three contacts, nobody else's
    assert IBAN not in str(everything)
    refused = api.get(f"/api/v1/partners/{a}/contacts/export/?file_format=ods")
    assert refused.status_code == 400
    assert refused.json()["error"]["details"]["file_format"] == ["Use csv or xlsx."]
    foreign = api.get(f"/api/v1/partners/{b}/contacts/export/")
    assert foreign.status_code == 404 and foreign.json()["error"]["status"] == 404


# --- documents --------------------------------------------------------------------------------


def test_document_panel_filters_by_type_expiry_and_search(
    personas: Personas, documents: None
) -> None:
    a = personas.a_partner.pk
    page = login(personas.a_manager)

    detail = page.get(f"/partners/{a}/").content.decode()
    assert 'data-testid="document-filter"' in detail and "Registration" in detail
    assert f"/partners/{a}/documents/export/?file_format=xlsx" in detail

    def titles(query: str) -> list[str]:
        rows = csv_rows(page.get(f"/partners/{a}/documents/export/?{query}"))
        return sorted(r[1] for r in rows[1:])

    assert titles("expiry=expired") == ["Old licence"]
    # The programme's reminder window (30 days) unless one is given.
    assert titles("expiry=expiring") == ["Insurance soon"]
    assert titles("expiry=expiring&within_days=365") == ["Insurance soon", "Tax form 2026"]
    assert titles("expiry=valid") == ["Registration", "Tax form 2026"]
    assert titles("expiry=valid&within_days=5") == [
        "Insurance soon",
        "Registration",
        "Tax form 2026",
    ]
    assert titles("doc_type=content_licence") == ["Old licence"]
    assert titles("search=HRB") == ["Registration"]  # the original file name
    assert titles("") == ["Insurance soon", "Old licence", "Registration", "Tax form 2026"]
    assert page.get(f"/partners/{a}/documents/export/?expiry=someday").status_code == 400
    assert page.get(f"/partners/{a}/documents/export/?within_days=0").status_code == 400

    panel = page.get(f"/partners/{a}/documents/?expiry=expired").content.decode()
    assert "Old licence" in panel and "Insurance soon" not in panel
    assert "Other partner" not in panel and "Foreign file" not in panel
    assert f"/partners/{a}/documents/export/?expiry=expired&amp;file_format=csv" in panel
    empty = page.get(f"/partners/{a}/documents/?search=nothing").content.decode()
    assert "No document matches these filters." in empty


def test_document_exports_hold_metadata_only(personas: Personas, documents: None) -> None:
    a, b = personas.a_partner.pk, personas.b_partner.pk
    page = login(personas.a_manager)

    rows = csv_rows(page.get(f"/partners/{a}/documents/export/?doc_type=content_licence"))
    assert rows[0] == [
        "ID",
        "Title",
        "Type",
        "File name",
        "Content type",
        "Size (bytes)",
        "SHA-256",
        "Issued",
        "Expires",
        "Uploaded by",
        "Uploaded at",
    ]
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Type"] == "Content licence"
    assert row["File name"] == "old-licence.pdf"
    assert row["Size (bytes)"] == "1001"
    assert row["Uploaded by"] == personas.a_manager.email
    everything = page.get(f"/partners/{a}/documents/export/?file_format=xlsx").content
    assert b"secret-folder" not in everything and b"storage-name" not in everything
    assert page.get(f"/partners/{b}/documents/export/").status_code == 404

    api = bearer(personas.a_viewer, personas.tenant_a)
    listed = api.get(f"/api/v1/partners/{a}/documents/?expiry=expiring").json()
    assert [d["title"] for d in listed["results"]] == ["Insurance soon"]
    exported = xlsx_rows(
        api.get(f"/api/v1/partners/{a}/documents/export/?file_format=xlsx&search=tax")
    )
    assert [r[1] for r in exported[1:]] == ["Tax form 2026"]
    all_rows = csv_rows(api.get(f"/api/v1/partners/{a}/documents/export/"))
    assert sorted(r[1] for r in all_rows[1:]) == [
        "Insurance soon",
        "Old licence",
        "Registration",
        "Tax form 2026",
    ]
    assert "secret-folder" not in str(all_rows)
    assert api.get(f"/api/v1/partners/{a}/documents/?expiry=soon").status_code == 400
    assert api.get(f"/api/v1/partners/{b}/documents/export/").status_code == 404


# --- who may -----------------------------------------------------------------------------------


def test_viewer_exports_but_cannot_change(personas: Personas, contacts: None) -> None:
    a = personas.a_partner.pk
    page = login(personas.a_viewer)
    assert page.get(f"/partners/{a}/contacts/").status_code == 200
    assert len(csv_rows(page.get(f"/partners/{a}/contacts/export/"))) == 4
    assert page.get(f"/partners/{a}/documents/export/?file_format=xlsx").status_code == 200
    assert "Add contact" not in page.get(f"/partners/{a}/").content.decode()
    assert page.post(f"/partners/{a}/contacts/add/", {"name": "X"}).status_code == 403

    api = bearer(personas.a_viewer, personas.tenant_a)
    assert api.get(f"/api/v1/partners/{a}/documents/export/").status_code == 200
    created = api.post(f"/api/v1/partners/{a}/contacts/", {"name": "X"}, format="json")
    assert created.status_code == 403


STAFF_URLS = [
    "/partners/{a}/contacts/",
    "/partners/{a}/contacts/export/",
    "/partners/{a}/documents/",
    "/partners/{a}/documents/export/",
    "/api/v1/partners/{a}/contacts/",
    "/api/v1/partners/{a}/contacts/export/",
    "/api/v1/partners/{a}/documents/",
    "/api/v1/partners/{a}/documents/export/",
]


@pytest.mark.parametrize("url", STAFF_URLS)
def test_partner_users_cannot_open_the_staff_lists(personas: Personas, url: str) -> None:
    # Even their own partner's lists: the portal has its own pages.
    url = url.format(a=personas.a_partner.pk)
    client = (
        bearer(personas.a_partner_user, personas.tenant_a)
        if url.startswith("/api/")
        else login(personas.a_partner_user)
    )
    assert client.get(url).status_code == 403


# --- fixed query counts -------------------------------------------------------------------------


def seed(personas: Personas, count: int, offset: int) -> None:
    with tenant_context(personas.tenant_a):
        for n in range(offset, offset + count):
            ContactFactory(partner=personas.a_partner, name=f"Contact {n}")
            add_document(
                personas.a_partner,
                f"Document {n}",
                n,
                expires_on=timezone.localdate() + timedelta(days=n),
                uploaded_by=personas.a_manager,
            )


@pytest.mark.parametrize(
    "url",
    [
        "/partners/{a}/",
        *STAFF_URLS,
        "/partners/{a}/documents/export/?expiry=expiring&file_format=xlsx",
        "/api/v1/partners/{a}/documents/export/?expiry=valid",
    ],
)
def test_lists_and_exports_run_a_fixed_number_of_queries(
    personas: Personas, url: str, django_assert_max_num_queries
) -> None:
    url = url.format(a=personas.a_partner.pk)
    client = (
        bearer(personas.a_manager, personas.tenant_a)
        if url.startswith("/api/")
        else login(personas.a_manager)
    )
    seed(personas, 2, offset=0)
    with django_assert_max_num_queries(40) as few:
        assert client.get(url).status_code == 200
    seed(personas, 8, offset=100)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert response.status_code == 200
