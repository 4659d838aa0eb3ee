from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request


class PageFirstPaginator(Paginator):
    """Reads the asked page's rows first and counts the list only when it must: a page shorter
    than the page size is the last one, so its rows give the count (a filtered list that fits
    on one page, or its last page, runs no COUNT). Without orphans only."""

    def page(self, number: Any) -> Page[Any]:
        if self.orphans:
            return super().page(number)
        try:
            asked = int(number)
        except (TypeError, ValueError):
            return super().page(number)  # validate_number raises PageNotAnInteger
        if asked < 1:
            return super().page(number)  # EmptyPage
        bottom = (asked - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page])
        if len(rows) < self.per_page and (rows or asked == 1):
            self.__dict__["count"] = bottom + len(rows)  # the cached property Paginator.count
        number = self.validate_number(asked)  # counts unless known; raises for a page too far
        return Page(rows, number, self)


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500


class IdFirstPagination(Pagination):
    """Pages through the ids, then loads the page's rows with their relations and prefetches.

    For long lists of wide rows with joins (10,000 partners): a deep page's OFFSET then skips
    index entries instead of building thousands of joined rows that are thrown away.
    """

    def paginate_queryset(
        self, queryset: QuerySet[Any], request: Request, view: Any = None
    ) -> list[Any] | None:
        ids = super().paginate_queryset(
            queryset.prefetch_related(None).values_list("pk", flat=True), request, view
        )
        if ids is None:
            return None
        rows = queryset.in_bulk(list(ids))
        return [rows[pk] for pk in ids if pk in rows]
