"""Forms of the settlement pages (usage upload, products, FX rates)."""

from __future__ import annotations

from django import forms

from settlements.models import Product, UsageImport


class UsageUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="Header: partner, product_code, event_time, quantity, gross_amount, "
        "tax_amount, currency, external_id (partner = the partner's id).",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
    policy = forms.ChoiceField(
        choices=UsageImport.Policy.choices,
        initial=UsageImport.Policy.ALL_OR_NOTHING,
        help_text="All or nothing: one rejected row and nothing is imported.",
    )


class ProductForm(forms.ModelForm):
    class Meta:
        model = Product
        fields = ["code", "name", "unit", "is_active"]


class FxUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="Header: date, base, quote, rate (one base costs rate quote).",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
