"""Forms of the settlement pages (usage upload, products, FX rates, statement actions, exports,
GL accounts)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from kpis.periods import Period
from partnerhub.tenancy.models import Tenant
from partners.models import Partner
from settlements.exports.filters import DIRECTIONS, export_filters_clean
from settlements.models import JournalSettings, Product, SettlementExport, Statement, UsageImport
from settlements.services.exports import JOURNAL_ACCOUNT_FIELDS, export_options_check


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


class ExportForm(forms.Form):
    """A finance export of a month's statements: what, which file, which month, which filters."""

    kind = forms.ChoiceField(choices=SettlementExport.Kind.choices)
    file_format = forms.ChoiceField(label="Format", choices=SettlementExport.Format.choices)
    month = forms.CharField(help_text="YYYY-MM", widget=forms.TextInput(attrs={"type": "month"}))
    status = forms.MultipleChoiceField(
        choices=Statement.Status.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    partner = forms.ModelChoiceField(
        queryset=Partner.objects.none(), required=False, empty_label="All partners"
    )
    currency = forms.CharField(required=False, max_length=3, help_text="ISO code, e.g. EUR")
    direction = forms.ChoiceField(choices=[("", "Both directions"), *DIRECTIONS], required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Built per request: the tenant-scoped manager needs the active tenant.
        self.fields["partner"].queryset = Partner.objects.order_by("legal_name")  # type: ignore[attr-defined]

    def clean_month(self) -> date:
        period = Period.parse(self.cleaned_data["month"])
        if period.kind != "month":
            raise forms.ValidationError("Use a month: YYYY-MM.")
        return period.start

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "kind" in data and "file_format" in data:
            try:
                export_options_check(kind=data["kind"], file_format=data["file_format"])
            except ValidationError as exc:
                self.add_error("file_format", exc.message_dict["file_format"])
        raw = {
            "status": data.get("status") or None,
            "partner": data["partner"].pk if data.get("partner") else None,
            "currency": (data.get("currency") or "").strip().upper() or None,
            "direction": data.get("direction") or None,
        }
        try:
            data["filters"] = export_filters_clean({k: v for k, v in raw.items() if v})
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                self.add_error(name if name in self.fields else None, messages)
        return data


class JournalSettingsForm(forms.ModelForm):
    class Meta:
        model = JournalSettings
        fields = list(JOURNAL_ACCOUNT_FIELDS)


class LetterheadForm(forms.ModelForm):
    """The tenant's name, address and tax number as printed on partner statements."""

    class Meta:
        model = Tenant
        fields = ["legal_name", "address", "tax_id"]
        widgets = {"address": forms.Textarea(attrs={"rows": 3})}


# --- statements -------------------------------------------------------------------------------


class ApprovalPolicyForm(forms.Form):
    four_eyes_approval = forms.BooleanField(
        required=False,
        label="Four eyes",
        help_text=(
            "The approver of a statement may not be the last editor of a manual adjustment "
            "settled in it."
        ),
    )


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
