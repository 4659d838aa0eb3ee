"""A bench-only endpoint: the rows of one partner list page, straight from ``values()``.

The partner list page filters, orders and pages with ``PartnerFilter`` and renders 25 rows
with their type, tier, owner and tags. This view applies the same filter, ordering and page
to the same queryset and returns the rows' columns as JSON, without the page's count, tags,
forms and template. `make load` times both with the same query strings; the ratio says what
the page costs on top of reading its rows. Mounted only by ``bench.load.urls``.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, JsonResponse

from partners.forms.registry import PartnerFilter
from partners.models import Partner
from partners.views.registry import PartnerListView

COLUMNS = (
    "pk",
    "legal_name",
    "trading_name",
    "partner_type__name",
    "status",
    "tier__name",
    "country",
    "account_owner__full_name",
    "account_owner__email",
    "last_contact_on",
)


@login_required
def partner_rows(request: HttpRequest) -> JsonResponse:
    if request.tenant is None:  # type: ignore[attr-defined]
        return JsonResponse({"error": "no tenant"}, status=403)
    size = PartnerListView.paginate_by
    try:
        page = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page = 1
    queryset = PartnerFilter(request.GET, queryset=Partner.objects.all(), request=request).qs
    rows = list(queryset.values(*COLUMNS)[(page - 1) * size : page * size])
    return JsonResponse({"results": rows})
