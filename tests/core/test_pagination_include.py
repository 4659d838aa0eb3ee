"""includes/pagination.html: the links between a list's pages, shared by every paged list."""

from __future__ import annotations

import re

from django.core.paginator import Paginator
from django.template.loader import render_to_string
from django.test import RequestFactory


def render(number: int, query: str = "", **params) -> str:
    request = RequestFactory().get(f"/list/?{query}")
    page = Paginator(list(range(50)), 10).page(number)
    return render_to_string(
        "includes/pagination.html", {"page_obj": page, **params}, request=request
    )


def links(html: str) -> dict[str, str]:
    """rel (or aria-label) -> href of the page links."""
    found = {}
    for attrs in re.findall(r"<a ([^>]*)>", html):
        href = re.search(r'href="([^"]*)"', attrs).group(1)
        name = re.search(r'(?:rel|aria-label)="([^"]*)"', attrs).group(1)
        found[name] = href.replace("&amp;", "&")
    return found


def test_middle_page_links_both_ways_and_keeps_the_query():
    html = render(3, "status=active&search=a+b&page=3", label="Partner pages")
    assert '<nav class="mt-3" aria-label="Partner pages">' in html
    assert 'aria-current="page"><span class="page-link">Page 3 of 5</span>' in html
    assert links(html) == {
        "prev": "?status=active&search=a+b&page=2",
        "next": "?status=active&search=a+b&page=4",
    }
    assert "First page" not in html


def test_first_and_last_pages_show_the_missing_direction_disabled():
    first, last = render(1, label="Alert pages"), render(5, label="Alert pages")
    assert set(links(first)) == {"next"} and set(links(last)) == {"prev"}
    assert '<li class="page-item disabled"><span class="page-link">Previous</span></li>' in first
    assert '<li class="page-item disabled"><span class="page-link">Next</span></li>' in last


def test_ends_link_the_first_and_last_page():
    html = render(2, "actor=7", label="Audit pages", ends=True)
    assert links(html) == {
        "First page": "?actor=7&page=1",
        "prev": "?actor=7&page=1",
        "next": "?actor=7&page=3",
        "Last page": "?actor=7&page=5",
    }


def test_a_single_page_renders_nothing():
    request = RequestFactory().get("/list/")
    page = Paginator([1, 2], 10).page(1)
    html = render_to_string(
        "includes/pagination.html", {"page_obj": page, "label": "x"}, request=request
    )
    assert html.strip() == ""
