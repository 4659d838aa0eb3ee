"""read_choices_once: a <select>'s options from one plain query, as Django would list them."""

from __future__ import annotations

import django_filters
import pytest
from django import forms

from partnerhub.core.forms import read_choices_once
from partnerhub.tenancy.context import tenant_context
from partners.models import Partner, PartnerTier, Tag

pytestmark = pytest.mark.django_db


class TierForm(forms.Form):
    tier = forms.ModelChoiceField(queryset=PartnerTier.objects.none(), empty_label="Any tier")
    tags = forms.ModelMultipleChoiceField(queryset=Tag.objects.none(), required=False)


def plain(choices) -> list[tuple[str, str]]:
    return [(str(value), str(label)) for value, label in choices]


def test_options_are_django_s_from_one_query(personas, django_assert_num_queries):
    with tenant_context(personas.tenant_a):
        for name in ("Video", "5G"):
            Tag.objects.create(name=name)
        form = TierForm()
        form.fields["tier"].queryset = PartnerTier.objects.order_by("-rank")
        form.fields["tags"].queryset = Tag.objects.order_by("name")
        expected = {name: plain(form.fields[name].choices) for name in ("tier", "tags")}
        read_choices_once(form)
        for name in ("tier", "tags"):
            with django_assert_num_queries(1):
                choices = form.fields[name].choices
                assert len(choices) == len(expected[name])  # {% for %} asks the length first
                assert plain(choices) == expected[name]
    assert expected["tier"][0] == ("", "Any tier") and len(expected["tags"]) == 2


class TierFilter(django_filters.FilterSet):
    tier = django_filters.ModelChoiceFilter(
        queryset=lambda request: PartnerTier.objects.order_by("name"), null_label="No tier"
    )

    class Meta:
        model = Partner
        fields = ["tier"]


def test_django_filter_null_choice_comes_after_the_empty_one(personas):
    with tenant_context(personas.tenant_a):
        form = TierFilter({}).form
        expected = plain(form.fields["tier"].choices)
        assert plain(read_choices_once(form).fields["tier"].choices) == expected
    assert [label for _, label in expected[:2]] == ["---------", "No tier"]
