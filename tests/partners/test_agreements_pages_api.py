"""Agreement pages and API: isolation, permissions, filters, constant query counts, export."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from partnerhub.tenancy.context import tenant_context
from partners.models import Agreement, AgreementVersion
from tests.conftest import bearer, login
from tests.partners.factories import PartnerFactory
from tests.partners.test_agreements_lifecycle import activate, make_agreement

pytestmark = pytest.mark.django_db


def seed(personas, count: int, prefix: str = "A") -> None:
    with tenant_context(personas.tenant_a):
        for n in range(count):
            partner = PartnerFactory()
            agreement = make_agreement(partner, reference=f"{prefix}-{n}")
            if n % 2:
                activate(agreement)
                agreement.refresh_from_db()
                from partners.services.agreements import agreement_amend

                agreement_amend(
                    agreement=agreement, changes={"terms": "v2"}, reason="r", actor=None
                )


def test_pages_render_for_a_manager_and_keep_other_tenants_out(personas) -> None:
    with tenant_context(personas.tenant_a):
        mine = activate(make_agreement(personas.a_partner))
    with tenant_context(personas.tenant_b):
        foreign = make_agreement(personas.b_partner, reference="B-1")
    client = login(personas.a_manager)
    for url in (
        "/partners/agreements/",
        "/partners/agreements/new/",
        f"/partners/agreements/{mine.pk}/",
        f"/partners/agreements/{mine.pk}/amend/",
        f"/partners/{personas.a_partner.pk}/agreements/",
    ):
        assert client.get(url).status_code == 200, url
    assert b"AGR-1" in client.get(f"/partners/{personas.a_partner.pk}/agreements/").content
    for url in (
        f"/partners/agreements/{foreign.pk}/",
        f"/partners/agreements/{foreign.pk}/amend/",
        f"/partners/{personas.b_partner.pk}/agreements/",
    ):
        assert client.get(url).status_code == 404, url
    assert (
        client.post(
            f"/partners/agreements/{foreign.pk}/transition/", {"to_status": "pending_signature"}
        ).status_code
        == 404
    )
    api = bearer(personas.a_manager, personas.tenant_a)
    assert api.get(f"/api/v1/agreements/{foreign.pk}/").status_code == 404
    assert api.get(f"/api/v1/agreements/{foreign.pk}/versions/").status_code == 404
    listed = api.get("/api/v1/agreements/").json()
    assert [a["reference"] for a in listed["results"]] == ["AGR-1"]


def test_amend_page_creates_version_two_and_shows_the_diff(personas) -> None:
    with tenant_context(personas.tenant_a):
        agreement = activate(make_agreement(personas.a_partner))
    client = login(personas.a_manager)
    form = client.get(f"/partners/agreements/{agreement.pk}/amend/").context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(end_date="2028-06-30", reason="Extended", auto_renew="")
    data.pop("auto_renew")
    response = client.post(f"/partners/agreements/{agreement.pk}/amend/", data)
    assert response.status_code == 302, response.context["form"].errors
    page = client.get(f"/partners/agreements/{agreement.pk}/")
    assert b'data-testid="version-1"' in page.content
    assert b"31 Dec 2027" in page.content or b"2027-12-31" in page.content
    with tenant_context(personas.tenant_a):
        assert Agreement.objects.get(pk=agreement.pk).version == 2
        assert AgreementVersion.objects.filter(agreement=agreement, number=1).exists()


def test_viewer_reads_but_cannot_change_anything(personas) -> None:
    with tenant_context(personas.tenant_a):
        agreement = make_agreement(personas.a_partner)
    client = login(personas.a_viewer)
    assert client.get(f"/partners/agreements/{agreement.pk}/").status_code == 200
    assert client.get("/partners/agreements/new/").status_code == 403
    assert (
        client.post(
            f"/partners/agreements/{agreement.pk}/transition/", {"to_status": "pending_signature"}
        ).status_code
        == 403
    )
    api = bearer(personas.a_viewer, personas.tenant_a)
    assert api.get("/api/v1/agreements/").status_code == 200
    payload = {
        "partner": personas.a_partner.pk,
        "reference": "V-1",
        "agreement_type": "reseller",
        "title": "x",
        "start_date": "2026-01-01",
    }
    assert (
        api.post("/api/v1/agreements/", payload, content_type="application/json").status_code == 403
    )
    assert (
        api.post(
            f"/api/v1/agreements/{agreement.pk}/transition/",
            {"to_status": "pending_signature"},
            content_type="application/json",
        ).status_code
        == 403
    )
    with tenant_context(personas.tenant_a):
        assert Agreement.objects.get(pk=agreement.pk).status == "draft"
        assert not Agreement.objects.filter(reference="V-1").exists()


def test_api_workflow_create_amend_transition_review_versions(personas) -> None:
    api = bearer(personas.a_manager, personas.tenant_a)
    created = api.post(
        "/api/v1/agreements/",
        {
            "partner": personas.a_partner.pk,
            "reference": "API-1",
            "agreement_type": "content_licence",
            "title": "Licence",
            "start_date": "2026-01-01",
            "end_date": "2026-12-31",
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert created.json()["status"] == "draft"
    edited = api.patch(
        f"/api/v1/agreements/{pk}/", {"title": "Licence 2026"}, content_type="application/json"
    )
    assert edited.json()["title"] == "Licence 2026"

    def post(action: str, body: dict):
        return api.post(f"/api/v1/agreements/{pk}/{action}/", body, content_type="application/json")

    bad = post("transition", {"to_status": "active"})
    assert bad.status_code == 400
    assert "cannot become active" in str(bad.json()["error"]["details"])
    assert post("transition", {"to_status": "pending_signature"}).json()["status"] == (
        "pending_signature"
    )
    assert post("transition", {"to_status": "active"}).json()["status"] == "active"
    assert (
        api.patch(
            f"/api/v1/agreements/{pk}/", {"title": "x"}, content_type="application/json"
        ).status_code
        == 400
    )
    amended = post("amend", {"end_date": "2027-12-31", "reason": "Extended"})
    assert amended.json()["version"] == 2
    review = post("review-complete", {"notes": "ok"})
    assert review.status_code == 201
    versions = api.get(f"/api/v1/agreements/{pk}/versions/").json()
    assert [v["number"] for v in versions] == [1, 2]
    assert versions[0]["terms"]["end_date"] == "2026-12-31"
    assert versions[1]["changes"] == [
        {"field": "end_date", "before": "2026-12-31", "after": "2027-12-31"}
    ]
    # A foreign partner id in the body answers like a missing one.
    foreign = api.post(
        "/api/v1/agreements/",
        {
            "partner": personas.b_partner.pk,
            "reference": "API-2",
            "agreement_type": "reseller",
            "title": "x",
            "start_date": "2026-01-01",
        },
        content_type="application/json",
    )
    assert foreign.status_code == 400
    assert "does not exist" in str(foreign.json()["error"]["details"]["partner"])


def test_list_filters_and_export(personas) -> None:
    today = timezone.localdate()
    with tenant_context(personas.tenant_a):
        soon = activate(
            make_agreement(
                personas.a_partner,
                reference="SOON",
                start_date=today - timedelta(days=30),
                end_date=today + timedelta(days=10),
            )
        )
        make_agreement(
            personas.a_other_partner,
            reference="LATER",
            start_date=today,
            end_date=today + timedelta(days=400),
            agreement_type="reseller",
        )
    api = bearer(personas.a_manager, personas.tenant_a)

    def refs(query: str) -> list[str]:
        return [a["reference"] for a in api.get(f"/api/v1/agreements/?{query}").json()["results"]]

    assert refs("ending_within=30") == ["SOON"]
    assert refs("agreement_type=reseller") == ["LATER"]
    assert refs(f"partner={personas.a_partner.pk}") == ["SOON"]
    assert refs("status=draft") == ["LATER"]
    assert refs("ordering=reference") == ["LATER", "SOON"]
    client = login(personas.a_manager)
    csv = client.get("/partners/agreements/export/?file_format=csv&ending_within=30")
    body = b"".join(csv.streaming_content).decode()
    assert "SOON" in body and "LATER" not in body
    xlsx = client.get("/partners/agreements/export/?file_format=xlsx")
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    assert soon.pk


def test_list_page_and_endpoint_run_a_constant_number_of_queries(
    personas, django_assert_max_num_queries
) -> None:
    seed(personas, 2, prefix="S")
    client = login(personas.a_manager)
    api = bearer(personas.a_manager, personas.tenant_a)
    with django_assert_max_num_queries(25) as few_page:
        assert client.get("/partners/agreements/").status_code == 200
    with django_assert_max_num_queries(20) as few_api:
        assert api.get("/api/v1/agreements/").status_code == 200
    seed(personas, 8, prefix="M")
    with django_assert_max_num_queries(len(few_page.captured_queries)):
        assert client.get("/partners/agreements/").status_code == 200
    with django_assert_max_num_queries(len(few_api.captured_queries)):
        assert api.get("/api/v1/agreements/").status_code == 200
