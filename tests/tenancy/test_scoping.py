"""The ORM wall: scoped default managers, contextvar, save checks."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from partnerhub.accounts.models import ApiToken
from partnerhub.accounts.services import api_token_create
from partnerhub.tenancy.context import NoActiveTenant, get_current_tenant, tenant_context
from partnerhub.tenancy.models import Membership
from tests.conftest import Personas

pytestmark = pytest.mark.django_db


def test_default_manager_refuses_to_query_without_an_active_tenant(personas: Personas) -> None:
    with pytest.raises(NoActiveTenant):
        list(Membership.objects.all())


def test_default_manager_only_returns_the_active_tenants_rows(personas: Personas) -> None:
    with tenant_context(personas.tenant_a):
        emails = set(Membership.objects.values_list("user__email", flat=True))
    assert emails == {
        "a.admin@example.test",
        "a.manager@example.test",
        "a.finance@example.test",
        "a.viewer@example.test",
        "a.partner@example.test",
    }


def test_tenant_context_is_reset_after_the_block_even_on_error(personas: Personas) -> None:
    with pytest.raises(ZeroDivisionError), tenant_context(personas.tenant_a):
        assert get_current_tenant() == personas.tenant_a
        1 / 0  # noqa: B018
    assert get_current_tenant() is None


def test_nested_contexts_restore_the_outer_tenant(personas: Personas) -> None:
    with tenant_context(personas.tenant_a):
        with tenant_context(personas.tenant_b):
            assert Membership.objects.count() == 1
        assert Membership.objects.count() == 5


def test_saving_an_object_of_another_tenant_is_refused(personas: Personas) -> None:
    with tenant_context(personas.tenant_b):
        token = api_token_create(user=personas.b_manager).token
    with tenant_context(personas.tenant_a), pytest.raises(ValidationError):
        token.name = "hijacked"
        token.save()
    with tenant_context(personas.tenant_b):
        assert ApiToken.objects.get().name == ""


def test_new_rows_take_the_active_tenant(personas: Personas) -> None:
    with tenant_context(personas.tenant_a):
        token = api_token_create(user=personas.a_admin).token
    assert token.tenant_id == personas.tenant_a.pk
