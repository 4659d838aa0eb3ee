"""Forms of the agreement pages. Querysets are set per request: no tenant at import time."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from partners.models import Agreement, AgreementStatus, AgreementType, Document, Partner
from partners.models.agreements import ReviewCadence
from partners.services.agreements import CLOSED_PARTNER


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("format", "%Y-%m-%d")
        super().__init__(**kwargs)


def apply_errors(form: forms.Form, exc: ValidationError, *, upload_field: str = "") -> None:
    """Show a service's ValidationError on the form field it names, else above the form."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            target = name if name in form.fields else None
            for message in errors:
                if target is None and name not in ("__all__", "non_field_errors"):
                    message = f"{name.replace('_', ' ').capitalize()}: {message}"
                form.add_error(target, message)
        return
    for error in exc.error_list:
        code = error.code or ""
        target = upload_field if upload_field and code.startswith("file_") else None
        form.add_error(target, error.messages[0])


class AgreementTermsForm(forms.Form):
    """The terms shared by creating a draft, editing it and amending a live agreement."""

    agreement_type = forms.ChoiceField(label="Type", choices=AgreementType.choices)
    title = forms.CharField(max_length=200)
    start_date = forms.DateField(widget=DateInput())
    end_date = forms.DateField(
        required=False, widget=DateInput(), help_text="Empty for an open-ended agreement."
    )
    auto_renew = forms.BooleanField(required=False, label="Renews automatically")
    notice_period_days = forms.IntegerField(
        label="Notice period (days)", min_value=0, max_value=3650, initial=90
    )
    review_cadence = forms.ChoiceField(
        choices=ReviewCadence.choices, initial=ReviewCadence.QUARTERLY
    )
    next_review_date = forms.DateField(
        required=False,
        widget=DateInput(),
        help_text="Empty: one review period after the start date.",
    )
    terms = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 5}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", "The end date is before the start date.")
        return data


class AgreementCreateForm(AgreementTermsForm):
    field_order = ["partner", "reference"]

    partner = forms.ModelChoiceField(queryset=Partner.objects.none())
    reference = forms.CharField(max_length=64, help_text="Unique, e.g. AGR-2026-014.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["partner"].queryset = Partner.objects.exclude(  # type: ignore[attr-defined]
            status__in=CLOSED_PARTNER
        ).order_by("legal_name")


class AgreementEditForm(AgreementTermsForm):
    field_order = ["reference"]

    reference = forms.CharField(max_length=64)


class AgreementAmendForm(AgreementTermsForm):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Why the terms change; kept with the version it replaces.",
    )

    def changes(self, agreement: Agreement) -> dict[str, Any]:
        """Only the terms that differ from the agreement's current ones."""
        data = self.cleaned_data
        return {
            name: data[name]
            for name in AgreementTermsForm.base_fields
            if data.get(name) != getattr(agreement, name)
        }


def terms_initial(agreement: Agreement) -> dict[str, Any]:
    return {name: getattr(agreement, name) for name in AgreementTermsForm.base_fields} | {
        "reference": agreement.reference
    }


class AgreementTransitionForm(forms.Form):
    to_status = forms.ChoiceField(choices=AgreementStatus.choices)


class AgreementReviewForm(forms.Form):
    notes = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Review notes",
    )


class AgreementSignForm(forms.Form):
    document = forms.ModelChoiceField(
        queryset=Document.objects.none(), label="Signed document", empty_label=None
    )

    def __init__(self, *args: Any, partner: Partner, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["document"].queryset = Document.objects.filter(  # type: ignore[attr-defined]
            partner=partner
        ).order_by("-uploaded_at")
