"""The isolation matrix: every URL of the project, walked from Django's resolver (and checked
against the OpenAPI schema), requested by every persona with the ids of objects that persona
must not reach. Nothing here lists pages or endpoints: a new one is covered, or the test says
what to add (see docs/security.md, "Isolation matrix").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client
from drf_spectacular.generators import SchemaGenerator

from kpis.models import KpiDefinition
from partnerhub.audit.models import AuditEntry
from partnerhub.tenancy.models import TenantModel
from partners.models import Agreement, ChecklistTemplateItem, Dispute, Partner, PartnerType
from partners.models.registry import PartnerTier, Tag
from settlements.models import RevenueSharePlan, Statement
from settlements.models.engine import StatementLine
from tests.conftest import Personas, login, personas_build
from tests.security.bodies import leaks, response_text
from tests.security.matrix import (
    LITERAL_KWARGS,
    PUBLIC_VIEWS,
    kwarg_model,
    permission_problem,
    viewer_may_write,
)
from tests.security.urlwalk import UrlCase, walk_urls
from tests.security.world import World, sequences_restart, world_build

CASES = walk_urls()
PERSONAS = ["a_admin", "a_manager", "a_finance", "a_viewer", "a_partner", "b_manager", "anon"]
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
# A plausible body for any write: the fields most forms and serializers have.
WRITE_BODY = {
    "name": "ZZWRITE",
    "title": "ZZWRITE",
    "comment": "ZZWRITE",
    "body": "ZZWRITE",
    "reason": "ZZWRITE",
    "note": "ZZWRITE",
    "amount": "1.00",
    "status": "active",
}
# The foreign worlds' distinctive ids start here (see world.sequences_restart).
OTHER_PARTNER_BASE = 7_310_000
FOREIGN_TENANT_BASE = 9_870_000
AFTER_WORLDS_BASE = 20_000_000


@dataclass
class Matrix:
    personas: Personas
    other_partner: World  # tenant A, another partner than the partner user's
    foreign_tenant: World  # tenant B
    clients: dict[str, Client]

    def target(self, persona: str) -> World:
        """Whose ids a persona is given: tenant B's, or (for B and the partner user) the
        other partner's in tenant A."""
        return self.other_partner if persona in ("a_partner", "b_manager") else self.foreign_tenant

    def forbidden(self, persona: str) -> list[tuple[World, int, set[str]]]:
        """The worlds that must not show up in this persona's responses: id base and markers.
        The partner user may see its own tenant's tenant-wide rows (KPI names, products)."""
        foreign = self.foreign_tenant, FOREIGN_TENANT_BASE, self._markers(self.foreign_tenant)
        other_tenant = self.other_partner, OTHER_PARTNER_BASE, self._markers(self.other_partner)
        if persona.startswith("a_") and persona != "a_partner":
            return [foreign]
        if persona == "b_manager":
            return [other_tenant]
        if persona == "a_partner":
            return [foreign, (self.other_partner, OTHER_PARTNER_BASE, {self.other_partner.marker})]
        return [foreign, other_tenant]

    @staticmethod
    def _markers(world: World) -> set[str]:
        return {world.marker, world.tenant_marker}


@pytest.fixture(scope="module")
def matrix(django_db_setup: None, django_db_blocker: Any) -> Iterator[Matrix]:
    """Built once for the module inside a transaction that is rolled back at the end."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            personas = personas_build()
            other = world_build(
                tenant=personas.tenant_a,
                marker="ZZOTHERPARTNER",
                tenant_marker="ZZALPHAWIDE",
                amount="876543.21",
                user=personas.a_manager,
                base=OTHER_PARTNER_BASE,
            )
            foreign = world_build(
                tenant=personas.tenant_b,
                marker="ZZFOREIGN",
                tenant_marker="ZZBRAVOWIDE",
                amount="987654.32",
                user=personas.b_manager,
                base=FOREIGN_TENANT_BASE,
            )
            sequences_restart(AFTER_WORLDS_BASE)  # rows made by the tests never look foreign
            users = {
                "a_admin": personas.a_admin,
                "a_manager": personas.a_manager,
                "a_finance": personas.a_finance,
                "a_viewer": personas.a_viewer,
                "a_partner": personas.a_partner_user,
                "b_manager": personas.b_manager,
            }
            clients = {key: login(user) for key, user in users.items()}
            clients["anon"] = Client()
            yield Matrix(personas, other, foreign, clients)
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def _kwargs(case: UrlCase, world: World) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for kwarg in case.kwargs:
        if kwarg == "tenant_slug":
            values[kwarg] = world.tenant.slug
        elif kwarg in LITERAL_KWARGS:
            values[kwarg] = LITERAL_KWARGS[kwarg]
        else:
            model = kwarg_model(case, kwarg)
            if model is None:
                pytest.fail(
                    f"{case.name} ({case.route}) has the URL kwarg {kwarg!r} the isolation "
                    "matrix does not know: add it to KWARG_MODELS, PAGE_PK_MODELS or "
                    "LITERAL_KWARGS in tests/security/matrix.py"
                )
            obj = world.objects.get(model)
            if obj is None:
                pytest.fail(
                    f"{case.name} takes a {model.__name__} id but the isolation world has no "
                    f"{model.__name__}: add one in tests/security/world.py:world_build"
                )
            values[kwarg] = obj.pk
    return values


def _tenant_write_count() -> int:
    """Rows inserted, updated or deleted so far in this transaction in tenant tables and the
    audit trail (PostgreSQL's per-transaction statistics see through row-level security)."""
    tables = sorted(
        {m._meta.db_table for m in _tenant_models()} | {AuditEntry._meta.db_table},
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) "
            "FROM pg_stat_xact_user_tables WHERE relname = ANY(%s)",
            [tables],
        )
        return int(cursor.fetchone()[0])


def _tenant_models() -> list[type]:
    from django.apps import apps

    return [m for m in apps.get_models() if issubclass(m, TenantModel)]


def _allowed_refusal(case: UrlCase, persona: str, response: Any) -> bool:
    if response.status_code in (403, 404, 405):
        return True
    if persona == "anon":
        if response.status_code == 401:
            return True
        location = response.headers.get("Location", "")
        return response.status_code == 302 and "/accounts/login/" in location
    return False


def _check_body(
    matrix: Matrix, persona: str, label: str, response: Any, *, sent_ids: bool = False
) -> None:
    """``sent_ids``: the request carried the foreign ids, and an error may echo them back."""
    text = response_text(response)
    for world, base, markers in matrix.forbidden(persona):
        echoed = sent_ids and response.status_code >= 400
        ids = set() if echoed else {pk for pk in world.ids() if pk > base}
        found = leaks(text, markers=markers, amounts=world.amounts, ids=ids)
        assert not found, f"{label} as {persona} leaks {found} ({response.status_code})"


def _request(client: Client, case: UrlCase, method: str, path: str) -> Any:
    if case.is_api:
        import json

        return client.generic(method, path, json.dumps(WRITE_BODY), content_type="application/json")
    if method == "GET":
        return client.get(path)
    return client.generic(
        method,
        path,
        "&".join(f"{k}={v}" for k, v in WRITE_BODY.items()),
        content_type="application/x-www-form-urlencoded",
    )


def _params() -> list[Any]:
    params = []
    for case in CASES:
        for persona in PERSONAS:
            params.append(pytest.param(case, persona, id=f"{case.name}[{case.route}]-{persona}"))
    return params


@pytest.mark.parametrize(("case", "persona"), _params())
def test_foreign_ids_are_refused_and_nothing_leaks(
    matrix: Matrix, case: UrlCase, persona: str, db: None
) -> None:
    client = matrix.clients[persona]
    values = _kwargs(case, matrix.target(persona))
    path = case.fill(values)
    public = case.name in PUBLIC_VIEWS
    methods = case.methods()
    if "GET" in methods or not methods:
        response = client.get(path)
        label = f"GET {path}"
        # A persona that silently lost its session would pass every check as a visitor.
        assert response.wsgi_request.user.is_authenticated is (persona != "anon"), label
        if case.kwargs and not public:
            assert _allowed_refusal(case, persona, response), (
                f"{label} as {persona} answered {response.status_code}, not 403/404"
            )
        _check_body(matrix, persona, label, response)
    # Writes: with foreign ids always; without ids only by a viewer the view does not let write.
    if public or not (case.kwargs or persona in ("anon", "a_viewer")):
        return
    for method in (m for m in methods if m in WRITE_METHODS):
        if not case.kwargs and persona == "a_viewer" and viewer_may_write(case, method):
            continue
        before = _tenant_write_count()
        response = _request(client, case, method, path)
        label = f"{method} {path}"
        assert _tenant_write_count() == before, f"{label} as {persona} changed rows"
        assert _allowed_refusal(case, persona, response), (
            f"{label} as {persona} answered {response.status_code}, not 403/404"
        )
        _check_body(matrix, persona, label, response)


@pytest.mark.parametrize("case", CASES, ids=[f"{c.name}[{c.route}]" for c in CASES])
def test_every_view_declares_its_permissions(case: UrlCase) -> None:
    problem = permission_problem(case)
    assert problem is None, (
        f"{case.name} ({case.route}): {problem}. Declare read_perm/write_perm (pages: "
        "RolePermissionRequiredMixin; API: HasRolePermission), use the portal mixins, or add it "
        "to PUBLIC_VIEWS in tests/security/matrix.py with the reason it is public."
    )


def test_every_schema_operation_is_in_the_matrix() -> None:
    """The OpenAPI schema and the resolver agree: no endpoint escapes the walk."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    routes = []
    for case in CASES:
        pattern = re.sub(r"<(?:[^>:]+:)?\w+>|\(\?P<\w+>[^)]*\)", "@", case.route)
        pattern = re.escape(pattern.replace("^", "").replace("$", "")).replace("@", "[^/]+")
        routes.append((re.compile(f"^{pattern}$"), case))
    missing = []
    for path, operations in schema["paths"].items():
        concrete = re.sub(r"\{\w+\}", "1", path)
        matched = [case for rx, case in routes if rx.match(concrete)]
        for method in operations:
            if method.upper() not in {m for case in matched for m in case.methods()}:
                missing.append(f"{method.upper()} {path}")
    assert not missing, f"schema operations the URL walk does not cover: {missing}"


def test_the_matrix_would_see_a_leak(matrix: Matrix, db: None) -> None:
    """Canary: tenant B's manager on tenant B's own partner sees exactly what the matrix looks
    for (marker, amount, distinctive id), so a clean matrix means something."""
    world = matrix.foreign_tenant
    # Every row the world made has a distinctive id; the seeded rows it reuses (partner types,
    # checklist items, made with the tenant) keep theirs, which grow with the suite.
    seeded = (PartnerType, ChecklistTemplateItem)
    made = [obj.pk for model, obj in world.objects.items() if model not in seeded]
    assert all(pk > FOREIGN_TENANT_BASE for pk in made)
    partner = world.objects[Partner]
    statement = world.objects[Statement]
    client = matrix.clients["b_manager"]
    page = response_text(client.get(f"/partners/{partner.pk}/"))
    api = response_text(client.get(f"/api/v1/settlements/statements/{statement.pk}/"))
    markers = {world.marker}
    assert leaks(page, markers=markers, amounts=set(), ids=set()) == [world.marker]
    found = leaks(api, markers=set(), amounts=world.amounts, ids={statement.pk})
    assert f"id {statement.pk}" in found
    assert "987654.32" in "".join(found) or "987654,32" in "".join(found)


# Body fields that name another object: a create that takes a foreign one must refuse it.
BODY_REFERENCES: dict[str, type] = {
    "partner": Partner,
    "partner_id": Partner,
    "parent": Partner,
    "statement": Statement,
    "corrects_statement": Statement,
    "agreement": Agreement,
    "dispute": Dispute,
    "kpi": KpiDefinition,
    "kpi_id": KpiDefinition,
    "plan": RevenueSharePlan,
    "tier": PartnerTier,
    "line": StatementLine,
    "corrects_line": StatementLine,
}
_CREATES = [
    case
    for case in CASES
    if case.is_api
    and not case.kwargs
    and "POST" in case.methods()
    and case.name not in PUBLIC_VIEWS
]


@pytest.mark.parametrize("persona", ["a_admin", "a_finance"])
@pytest.mark.parametrize("case", _CREATES, ids=[c.name for c in _CREATES])
def test_foreign_ids_in_a_body_are_refused(
    matrix: Matrix, case: UrlCase, persona: str, db: None
) -> None:
    """Creates and bulk actions given tenant B's ids in their body: never a 5xx, never a row
    that points at them (it would show up as a foreign id in the answer)."""
    import json

    world = matrix.foreign_tenant
    body: dict[str, Any] = {**WRITE_BODY}
    for name, model in BODY_REFERENCES.items():
        body[name] = world.objects[model].pk
    body["tags"] = [world.objects[Tag].pk]
    body["ids"] = [world.objects[Statement].pk]
    response = matrix.clients[persona].post(
        case.fill({}), json.dumps(body), content_type="application/json"
    )
    assert response.status_code < 500, f"POST {case.route} as {persona}: {response.status_code}"
    _check_body(matrix, persona, f"POST {case.route}", response, sent_ids=True)
