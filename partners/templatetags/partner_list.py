"""``{% sort_header "name" "Partner" %}``: a sortable column header of the partner list.

A tag rather than an included template: the list has seven sortable columns, and an include per
header (with its ``{% querystring %}`` tags) was a measurable share of rendering the page.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag(takes_context=True)
def sort_header(context: Any, key: str, title: str) -> SafeString:
    """A link that sorts the list by ``key`` (ascending, or descending when it is sorted
    ascending by ``key`` already), keeping the filters and starting again at page 1."""
    current = context.get("ordering")
    query = context["request"].GET.copy()
    query.pop("page", None)
    if current == key:
        query["ordering"] = f"-{key}"
        state, icon = "ascending", "bi-sort-up"
    elif current == f"-{key}":
        query["ordering"] = key
        state, icon = "descending", "bi-sort-down"
    else:
        query["ordering"] = key
        return format_html(
            '<a class="link-body-emphasis text-decoration-none" href="?{}">{}</a>',
            query.urlencode(),
            title,
        )
    return format_html(
        '<a class="link-body-emphasis text-decoration-none" href="?{}"'
        ' aria-label="{}, sorted {}">{} <i class="bi {}" aria-hidden="true"></i></a>',
        query.urlencode(),
        title,
        state,
        title,
        icon,
    )
