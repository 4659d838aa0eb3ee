"""PageFirstPaginator: reads the page first and counts only when the page is full."""

from __future__ import annotations

import pytest
from django.core.paginator import EmptyPage, PageNotAnInteger

from partnerhub.core.pagination import PageFirstPaginator
from partnerhub.tenancy.context import tenant_context
from partners.models import Partner
from tests.partners.factories import PartnerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def seven(personas):
    with tenant_context(personas.tenant_a):
        for i in range(5):
            PartnerFactory(legal_name=f"Page {i}")
        yield Partner.objects.order_by("legal_name", "pk").values_list("pk", flat=True)


def test_a_short_page_gives_the_count_without_counting(seven, django_assert_num_queries):
    pks = list(seven.all())
    with django_assert_num_queries(1):
        page = PageFirstPaginator(seven, 10).page(1)
        assert page.paginator.count == 7 and len(page.object_list) == 7
        assert not page.has_other_pages()
    with django_assert_num_queries(1):
        last = PageFirstPaginator(seven, 3).page(3)
        assert last.paginator.count == 7 and list(last.object_list) == pks[6:]
        assert last.start_index() == 7 and not last.has_next()


def test_a_full_page_counts(seven, django_assert_num_queries):
    pks = list(seven.all())
    with django_assert_num_queries(2):
        page = PageFirstPaginator(seven, 3).page(2)
        assert page.paginator.count == 7 and list(page.object_list) == pks[3:6]
        assert page.has_next() and page.paginator.num_pages == 3
    with django_assert_num_queries(2):
        exact = PageFirstPaginator(seven, 7).page(1)  # full, and the last: still counted
        assert exact.paginator.count == 7 and not exact.has_next()


def test_pages_out_of_range_are_refused_as_by_paginator(seven):
    with pytest.raises(EmptyPage):
        PageFirstPaginator(seven, 3).page(4)
    with pytest.raises(EmptyPage):
        PageFirstPaginator(seven, 3).page(0)
    with pytest.raises(PageNotAnInteger):
        PageFirstPaginator(seven, 3).page("x")
    empty = PageFirstPaginator(seven.none(), 3).page(1)
    assert empty.paginator.count == 0 and list(empty.object_list) == []
