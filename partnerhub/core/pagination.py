from typing import Any

from django.db.models import QuerySet
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request


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
