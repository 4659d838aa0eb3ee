"""Forms of the onboarding pages: they only parse input; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms

from partners.models import ChecklistKind, Document, Partner, PartnerStatus, PartnerType
from partners.models.onboarding import Evidence, Party
from partners.services.onboarding import RISK_CATEGORIES, RISK_CATEGORY_LABELS

RISK_CHOICES = [
    (1, "1 · very low risk"),
    (2, "2 · low risk"),
    (3, "3 · moderate risk"),
    (4, "4 · high risk"),
    (5, "5 · very high risk"),
]


class TransitionForm(forms.Form):
    to_status = forms.ChoiceField(choices=PartnerStatus.choices)
    comment = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class StepCompleteForm(forms.Form):
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    document = forms.ModelChoiceField(queryset=Document.objects.none(), required=False)

    def __init__(self, *args: Any, partner: Partner, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only this partner's documents: another partner's (or tenant's) id is "not a choice".
        self.fields["document"].queryset = Document.objects.filter(partner=partner)  # type: ignore[attr-defined]


class StepCommentForm(forms.Form):
    comment = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class RiskAssessmentForm(forms.Form):
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for category in RISK_CATEGORIES:
            self.fields[category] = forms.TypedChoiceField(
                label=RISK_CATEGORY_LABELS[category],
                choices=[("", "Choose…"), *RISK_CHOICES],
                coerce=int,
            )
        self.order_fields([*RISK_CATEGORIES, "notes"])

    def answers(self) -> dict[str, int]:
        return {category: self.cleaned_data[category] for category in RISK_CATEGORIES}

    def category_fields(self) -> list[forms.BoundField]:
        return [self[category] for category in RISK_CATEGORIES]


class ChecklistSelectionForm(forms.Form):
    """Which template list the settings page shows: a kind, and all types or one type."""

    kind = forms.ChoiceField(choices=ChecklistKind.choices, required=False)
    partner_type = forms.ModelChoiceField(queryset=PartnerType.objects.none(), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["partner_type"].queryset = PartnerType.objects.all()  # type: ignore[attr-defined]


class ChecklistTemplateItemForm(forms.Form):
    title = forms.CharField(max_length=200)
    key = forms.SlugField(
        max_length=60,
        required=False,
        help_text="Stable identifier, e.g. tax_form. Left empty, it is made from the title.",
    )
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    mandatory = forms.BooleanField(required=False, initial=True)
    completed_by = forms.ChoiceField(
        label="Completed by", choices=Party.choices, initial=Party.EITHER
    )
    evidence = forms.ChoiceField(
        label="Evidence needed", choices=Evidence.choices, initial=Evidence.NONE
    )
