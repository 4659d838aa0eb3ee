"""Every list is filterable and exportable, page and API alike: agreements (API export),
disputes, a partner's interaction log, quiet partners; and the dashboard's API twin. Each is
checked as tenant A with tenant B's data present, with a fixed number of queries."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import openpyxl
import pytest
from django.utils import timezone

from partnerhub.tenancy.context import tenant_context
from partners.models import Partner, PartnerType
from partners.services import relationship as relationship_services
from partners.services.onboarding import onboarding_start
from tests.conftest import Personas, bearer, login
from tests.partners.factories import PartnerFactory
from tests.partners.test_agreements_lifecycle import activate, make_agreement
from tests.partners.test_relationship_disputes import open_dispute

pytestmark = pytest.mark.django_db
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def csv_rows(response: Any) -> list[list[str]]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    body = b"".join(response.streaming_content).decode("utf-8").lstrip("\ufeff")
    return list(csv.reader(io.StringIO(body, newline="")))


def xlsx_rows(response: Any) -> list[tuple[Any, ...]]:
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    return list(sheet.iter_rows(values_only=True))


def make_quiet(partner: Partner, days: int) -> None:
    """Last contact ``days`` ago (and the status older still)."""
    Partner.objects.filter(pk=partner.pk).update(
        last_contact_on=timezone.localdate() - timedelta(days=days),
        status_changed_at=timezone.now() - timedelta(days=days + 30),
    )


def log(partner: Partner, subject: str, kind: str = "call", days_ago: int = 1, by=None) -> None:
    relationship_services.interaction_log(
        partner=partner,
        kind=kind,
        occurred_on=timezone.localdate() - timedelta(days=days_ago),
        subject=subject,
        logged_by=by,
    )


# --- agreements: the API twin of the page's export ----------------------------------------------


def test_agreement_api_export_applies_the_list_filters_and_stays_in_the_tenant(
    personas: Personas,
) -> None:
    with tenant_context(personas.tenant_a):
        activate(make_agreement(personas.a_partner, reference="AG-LIVE"))
        make_agreement(personas.a_other_partner, reference="AG-DRAFT")
    with tenant_context(personas.tenant_b):
        make_agreement(personas.b_partner, reference="AG-FOREIGN")
    api = bearer(personas.a_viewer, personas.tenant_a)

    rows = csv_rows(api.get("/api/v1/agreements/export/?status=active"))
    assert rows[0][:3] == ["Reference", "Title", "Partner"]
    assert [r[0] for r in rows[1:]] == ["AG-LIVE"]
    everything = xlsx_rows(api.get("/api/v1/agreements/export/?file_format=xlsx"))
    assert sorted(r[0] for r in everything[1:]) == ["AG-DRAFT", "AG-LIVE"]  # never AG-FOREIGN

    refused = api.get("/api/v1/agreements/export/?file_format=pdf")
    assert refused.status_code == 400
    assert refused.json()["error"]["details"]["file_format"] == ["Use csv or xlsx."]
    # A partner user has no business with the tenant's agreements list.
    partner_api = bearer(personas.a_partner_user, personas.tenant_a)
    assert partner_api.get("/api/v1/agreements/export/").status_code == 403


# --- disputes ----------------------------------------------------------------------------------


def test_dispute_exports_follow_the_filters_with_stage_times_on_page_and_api(
    personas: Personas,
) -> None:
    billing = open_dispute(personas)
    with tenant_context(personas.tenant_a):
        relationship_services.dispute_comment_add(
            dispute=billing, author=personas.a_manager, body="Checking.", from_partner=False
        )
        relationship_services.dispute_transition(
            dispute=billing, to_status="investigating", actor=personas.a_manager
        )
        relationship_services.dispute_open(
            partner=personas.a_other_partner,
            category="service",
            title="Outage in week 44",
            description="Streams dropped.",
            raised_by=personas.a_manager,
            by_partner=False,
        )
    with tenant_context(personas.tenant_b):
        relationship_services.dispute_open(
            partner=personas.b_partner,
            category="billing",
            title="Foreign dispute",
            description="Not A's.",
            raised_by=personas.b_manager,
            by_partner=False,
        )

    page = login(personas.a_manager)
    listing = page.get("/partners/disputes/").content.decode()
    assert "/partners/disputes/export/?file_format=csv" in listing
    rows = csv_rows(page.get("/partners/disputes/export/?category=billing&file_format=csv"))
    header = rows[0]
    assert header[:5] == ["ID", "Title", "Partner", "Category", "Status"]
    assert [r[1] for r in rows[1:]] == ["Invoice charged twice"]
    row = dict(zip(header, rows[1], strict=True))
    assert row["Status"] == "Investigating"
    assert row["Raised by partner"] == "yes"
    assert row["Comments"] == "1"
    assert row["Days investigating"] != ""  # the stage it is in, so far
    assert page.get("/partners/disputes/export/?file_format=doc").status_code == 400
    assert page.get("/partners/disputes/export/?status=nonsense").status_code == 400

    api = bearer(personas.a_manager, personas.tenant_a)
    both = xlsx_rows(api.get("/api/v1/disputes/export/?file_format=xlsx"))
    assert sorted(r[1] for r in both[1:]) == ["Invoice charged twice", "Outage in week 44"]
    open_only = csv_rows(api.get("/api/v1/disputes/export/?status=open"))
    assert [r[1] for r in open_only[1:]] == ["Outage in week 44"]


# --- a partner's interaction log ----------------------------------------------------------------


def test_interaction_log_is_filterable_and_exportable_and_foreign_partners_are_404(
    personas: Personas,
) -> None:
    with tenant_context(personas.tenant_a):
        log(personas.a_partner, "Weekly call", kind="call", days_ago=2, by=personas.a_manager)
        log(personas.a_partner, '=HYPERLINK("x")', kind="meeting", days_ago=40)
        log(personas.a_other_partner, "Other partner's call")
    with tenant_context(personas.tenant_b):
        log(personas.b_partner, "Foreign call")
    a, b = personas.a_partner.pk, personas.b_partner.pk
    page = login(personas.a_manager)

    panel = page.get(f"/partners/{a}/interactions/?kind=call").content.decode()
    assert "Weekly call" in panel and "HYPERLINK" not in panel
    assert 'data-testid="interaction-filter"' in panel
    assert f"/partners/{a}/interactions/export/?kind=call&amp;file_format=csv" in panel
    empty = page.get(f"/partners/{a}/interactions/?kind=qbr").content.decode()
    assert "No interaction matches these filters." in empty

    rows = csv_rows(page.get(f"/partners/{a}/interactions/export/?file_format=csv"))
    assert rows[0][:3] == ["Date", "Kind", "Subject"]
    assert [r[2] for r in rows[1:]] == ["Weekly call", '\'=HYPERLINK("x")']  # newest first
    assert rows[1][7] == personas.a_manager.email
    since = (timezone.localdate() - timedelta(days=10)).isoformat()
    recent = csv_rows(page.get(f"/partners/{a}/interactions/export/?since={since}"))
    assert [r[2] for r in recent[1:]] == ["Weekly call"]
    assert page.get(f"/partners/{a}/interactions/export/?since=yesterday").status_code == 400
    assert page.get(f"/partners/{b}/interactions/export/").status_code == 404

    api = bearer(personas.a_viewer, personas.tenant_a)
    meetings = xlsx_rows(
        api.get(f"/api/v1/partners/{a}/interactions/export/?file_format=xlsx&kind=meeting")
    )
    assert [r[2] for r in meetings[1:]] == ['\'=HYPERLINK("x")']
    foreign = api.get(f"/api/v1/partners/{b}/interactions/export/")
    assert foreign.status_code == 404
    assert foreign.json()["error"]["status"] == 404


# --- quiet partners -----------------------------------------------------------------------------


def test_quiet_partners_page_and_api_filter_by_owner_and_export(personas: Personas) -> None:
    with tenant_context(personas.tenant_a):
        Partner.objects.filter(pk=personas.a_partner.pk).update(account_owner=personas.a_manager)
        make_quiet(personas.a_partner, 60)
        make_quiet(personas.a_other_partner, 20)
        talked_to = PartnerFactory(legal_name="Chatty Ltd")
        make_quiet(talked_to, 2)
    with tenant_context(personas.tenant_b):
        make_quiet(personas.b_partner, 90)
    page = login(personas.a_manager)

    listing = page.get("/partners/quiet/").content.decode()
    assert "Acme" in listing and "Other" in listing
    assert "Chatty" not in listing and "Foreign" not in listing
    mine = page.get("/partners/quiet/?mine=true").content.decode()
    assert "Acme" in mine and "Other Media" not in mine
    rows = csv_rows(page.get("/partners/quiet/export/?file_format=csv"))
    assert rows[0] == [
        "ID",
        "Legal name",
        "Trading name",
        "Type",
        "Account owner",
        "Last contact",
        "Quiet since",
        "Days quiet",
    ]
    assert [(r[1], r[4], r[7]) for r in rows[1:]] == [
        ("Acme Content Ltd", personas.a_manager.email, "60"),
        ("Other Media SA", "", "20"),
    ]
    owned = csv_rows(page.get(f"/partners/quiet/export/?account_owner={personas.a_manager.pk}"))
    assert [r[1] for r in owned[1:]] == ["Acme Content Ltd"]
    assert page.get("/partners/quiet/export/?account_owner=999999").status_code == 400

    api = bearer(personas.a_manager, personas.tenant_a)
    body = api.get("/api/v1/quiet-partners/").json()
    assert [(p["legal_name"], p["days_quiet"]) for p in body["results"]] == [
        ("Acme Content Ltd", 60),
        ("Other Media SA", 20),
    ]
    assert [
        p["legal_name"] for p in api.get("/api/v1/quiet-partners/?mine=true").json()["results"]
    ] == ["Acme Content Ltd"]
    exported = xlsx_rows(api.get("/api/v1/quiet-partners/export/?file_format=xlsx"))
    assert [r[1] for r in exported[1:]] == ["Acme Content Ltd", "Other Media SA"]
    assert (
        bearer(personas.a_partner_user, personas.tenant_a)
        .get("/api/v1/quiet-partners/")
        .status_code
        == 403
    )


# --- the dashboard's API twin -------------------------------------------------------------------


def test_dashboard_api_shows_the_cards_of_the_callers_tenant(personas: Personas) -> None:
    with tenant_context(personas.tenant_a):
        make_quiet(personas.a_partner, 60)
        PartnerFactory(status="vetting")
    open_dispute(personas)
    with tenant_context(personas.tenant_b):
        PartnerFactory.create_batch(3, status="applied")
    api = bearer(personas.a_manager, personas.tenant_a)

    body = api.get("/api/v1/dashboard/partners/").json()
    assert body["partners_total"] == 3
    by_status = {row["status"]: row["count"] for row in body["by_status"]}
    assert by_status["active"] == 2 and by_status["vetting"] == 1 and by_status["applied"] == 0
    assert [row["status"] for row in body["funnel"]][:2] == ["applied", "vetting"]
    assert body["quiet_after_days"] == 14
    assert [p["id"] for p in body["quiet_partners"]] == [personas.a_partner.pk]
    assert body["open_disputes_total"] == 1
    assert body["open_disputes"][0]["title"] == "Invoice charged twice"
    assert (
        bearer(personas.b_manager, personas.tenant_b)
        .get("/api/v1/dashboard/partners/")
        .json()["partners_total"]
        == 4
    )
    assert (
        bearer(personas.a_partner_user, personas.tenant_a)
        .get("/api/v1/dashboard/partners/")
        .status_code
        == 403
    )


# --- fixed query counts -------------------------------------------------------------------------


def seed(personas: Personas, count: int, prefix: str) -> None:
    with tenant_context(personas.tenant_a):
        for n in range(count):
            partner = PartnerFactory(legal_name=f"{prefix} quiet {n}")
            make_quiet(partner, 30 + n)
            onboarding_start(
                partner=PartnerFactory(legal_name=f"{prefix} applicant {n}", status="vetting"),
                actor=None,
            )
            log(personas.a_partner, f"{prefix} call {n}", by=personas.a_manager)
            relationship_services.dispute_open(
                partner=partner,
                category="billing",
                title=f"{prefix} dispute {n}",
                description="x",
                raised_by=personas.a_manager,
                by_partner=False,
                owner=personas.a_manager,
            )


URLS = [
    "/partners/quiet/",
    "/partners/quiet/export/",
    "/partners/disputes/export/?file_format=xlsx",
    "/partners/{a}/interactions/",
    "/partners/{a}/interactions/export/",
    "/api/v1/quiet-partners/",
    "/api/v1/quiet-partners/export/",
    "/api/v1/disputes/export/",
    "/api/v1/agreements/export/",
    "/api/v1/partners/{a}/interactions/export/",
    "/api/v1/dashboard/partners/",
    "/partners/onboarding/export/",
    "/api/v1/onboarding/pipeline/",
    "/api/v1/onboarding/pipeline/export/",
]


@pytest.mark.parametrize("url", URLS)
def test_new_lists_and_exports_run_a_fixed_number_of_queries(
    personas: Personas, url: str, django_assert_max_num_queries
) -> None:
    url = url.format(a=personas.a_partner.pk)
    client = (
        bearer(personas.a_manager, personas.tenant_a)
        if url.startswith("/api/")
        else login(personas.a_manager)
    )
    seed(personas, 2, prefix="S")
    with django_assert_max_num_queries(30) as few:
        assert client.get(url).status_code == 200
    seed(personas, 8, prefix="M")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert response.status_code == 200


# --- the onboarding pipeline --------------------------------------------------------------------


def test_pipeline_is_listed_and_exported_with_the_pages_filters(personas: Personas) -> None:
    with tenant_context(personas.tenant_a):
        reseller = PartnerType.objects.get(key="channel_partner")
        vetting = PartnerFactory(legal_name="Vetting Co", status="vetting")
        mine = PartnerFactory(
            legal_name="Diligent Co",
            status="due_diligence",
            partner_type=reseller,
            account_owner=personas.a_manager,
        )
        for partner in (vetting, mine):
            onboarding_start(partner=partner, actor=None)
        Partner.objects.filter(pk=vetting.pk).update(
            status_changed_at=timezone.now() - timedelta(days=5)
        )
    with tenant_context(personas.tenant_b):
        PartnerFactory(legal_name="Foreign applicant", status="applied")
    page = login(personas.a_manager)

    assert "/partners/onboarding/export/?mine=1&amp;file_format=csv" in (
        page.get("/partners/onboarding/?mine=1").content.decode()
    )
    rows = csv_rows(page.get("/partners/onboarding/export/?file_format=csv"))
    assert rows[0][:7] == [
        "ID",
        "Legal name",
        "Trading name",
        "Type",
        "Stage",
        "In stage since",
        "Days in stage",
    ]
    assert [(r[1], r[4]) for r in rows[1:]] == [  # longest waiting first, active ones not
        ("Vetting Co", "Vetting"),
        ("Diligent Co", "Due diligence"),
    ]
    assert rows[1][6] == "5.0"
    assert int(rows[2][8]) > 0  # the mandatory steps of its checklist
    only_mine = csv_rows(page.get("/partners/onboarding/export/?mine=1"))
    assert [r[1] for r in only_mine[1:]] == ["Diligent Co"]
    typed_url = f"/partners/onboarding/export/?file_format=xlsx&partner_type={reseller.pk}"
    typed = xlsx_rows(page.get(typed_url))
    assert [r[1] for r in typed[1:]] == ["Diligent Co"]
    assert page.get("/partners/onboarding/export/?partner_type=999999").status_code == 400

    api = bearer(personas.a_viewer, personas.tenant_a)
    body = api.get("/api/v1/onboarding/pipeline/").json()
    assert [(p["legal_name"], p["status"], p["days_in_stage"]) for p in body["results"]] == [
        ("Vetting Co", "vetting", "5.0"),
        ("Diligent Co", "due_diligence", "0.0"),
    ]
    owned = api.get(f"/api/v1/onboarding/pipeline/?owner={personas.a_manager.pk}").json()
    assert [p["legal_name"] for p in owned["results"]] == ["Diligent Co"]
    exported = csv_rows(api.get(f"/api/v1/onboarding/pipeline/export/?partner_type={reseller.pk}"))
    assert [r[1] for r in exported[1:]] == ["Diligent Co"]
    assert api.get("/api/v1/onboarding/pipeline/export/?file_format=ods").status_code == 400
