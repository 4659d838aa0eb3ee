"""Regressions the isolation matrix found: foreign ids answered with a validation error (400,
415) instead of 404, and two API routers exposed a root view that declared no permission
(a 500 for every signed-in member)."""

from __future__ import annotations

from tests.conftest import Personas, login


def test_foreign_partner_bank_details_update_is_not_found_before_validation(
    personas: Personas,
) -> None:
    response = login(personas.a_admin).put(
        f"/api/v1/partners/{personas.b_partner.pk}/bank-details/",
        {},
        content_type="application/json",
    )
    assert response.status_code == 404


def test_foreign_partner_document_upload_is_not_found_before_parsing(personas: Personas) -> None:
    response = login(personas.a_manager).post(
        f"/api/v1/partners/{personas.b_partner.pk}/documents/",
        "{}",
        content_type="application/json",
    )
    assert response.status_code == 404


def test_the_api_has_no_root_view_without_a_permission(personas: Personas) -> None:
    assert login(personas.a_manager).get("/api/v1/").status_code == 404
