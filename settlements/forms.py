"""Forms of the settlement pages (usage upload, products, FX rates, statement actions)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

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


# --- statements -------------------------------------------------------------------------------


class StatementPaidForm(forms.Form):
    payment_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    reference = forms.CharField(max_length=100, help_text="The bank transfer's reference.")


class _LineChoiceMixin:
    """A statement's lines as the choices of an optional ``line`` field (set per statement)."""

    def set_lines(self, lines: Iterable[Any]) -> None:
        field = self.fields["line"]  # type: ignore[attr-defined]
        field.choices = [("", "The whole statement")] + [
            (str(line.pk), f"{line.position}. {line.description}") for line in lines
        ]


class AdjustmentForm(_LineChoiceMixin, forms.Form):
    amount = forms.DecimalField(
        max_digits=20, decimal_places=4, help_text="Signed: positive raises the partner share."
    )
    reason = forms.CharField(max_length=300)
    line = forms.ChoiceField(required=False, label="Corrects line")


class StatementDisputeForm(_LineChoiceMixin, forms.Form):
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    line = forms.ChoiceField(required=False, label="About")
    attachment = forms.FileField(required=False, help_text="Optional: PDF, PNG, JPEG, XLSX or CSV.")


class DisputeResolveForm(forms.Form):
    resolution = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    amount = forms.DecimalField(
        required=False,
        max_digits=20,
        decimal_places=4,
        help_text="Optional: the adjustment the next statement settles (signed).",
    )
    reject = forms.BooleanField(required=False, label="Reject the dispute (no adjustment)")
