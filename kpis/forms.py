"""Forms of the KPI pages: definitions, targets, CSV uploads, portal self-reporting."""

from __future__ import annotations

from typing import Any

from django import forms

from kpis.models import Aggregation, KpiDefinition, PeriodKind
from kpis.services.definitions import EDITABLE_FIELDS
from partners.models import Agreement, Partner, PartnerTier, PartnerType


class KpiDefinitionForm(forms.ModelForm):
    # Declared here: a generated field would read the tenant-scoped manager at import time.
    numerator = forms.ModelChoiceField(queryset=KpiDefinition.objects.none(), required=False)
    denominator = forms.ModelChoiceField(queryset=KpiDefinition.objects.none(), required=False)

    class Meta:
        model = KpiDefinition
        fields = list(EDITABLE_FIELDS)
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        operands = KpiDefinition.objects.exclude(aggregation=Aggregation.RATIO).order_by("name")
        if self.instance.pk:
            operands = operands.exclude(pk=self.instance.pk)
        for name in ("numerator", "denominator"):
            self.fields[name].queryset = operands  # type: ignore[attr-defined]
            self.fields[name].required = False

    def validate_unique(self) -> None:
        # Uniqueness per tenant is checked by the service's full_clean (the tenant is set there).
        return


class KpiTargetForm(forms.Form):
    kpi = forms.ModelChoiceField(queryset=KpiDefinition.objects.none(), label="KPI")
    scope = forms.ChoiceField(
        choices=[
            ("default", "Everyone (default)"),
            ("partner", "One partner"),
            ("partner_type", "A partner type"),
            ("tier", "A tier"),
        ]
    )
    partner = forms.ModelChoiceField(queryset=Partner.objects.none(), required=False)
    partner_type = forms.ModelChoiceField(queryset=PartnerType.objects.none(), required=False)
    tier = forms.ModelChoiceField(queryset=PartnerTier.objects.none(), required=False)
    agreement = forms.ModelChoiceField(
        queryset=Agreement.objects.none(),
        required=False,
        help_text="Optional: the SLA it comes from.",
    )
    period_kind = forms.ChoiceField(choices=PeriodKind.choices, initial=PeriodKind.MONTH)
    value = forms.DecimalField(max_digits=20, decimal_places=6)
    weight = forms.DecimalField(max_digits=6, decimal_places=3, initial=1)
    effective_from = forms.DateField(
        help_text="From the first day of a month; past months keep their targets."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kpi"].queryset = KpiDefinition.objects.filter(is_active=True)  # type: ignore[attr-defined]
        self.fields["partner"].queryset = Partner.objects.order_by("legal_name")  # type: ignore[attr-defined]
        self.fields["partner_type"].queryset = PartnerType.objects.all()  # type: ignore[attr-defined]
        self.fields["tier"].queryset = PartnerTier.objects.all()  # type: ignore[attr-defined]
        self.fields["agreement"].queryset = Agreement.objects.select_related("partner")  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        scope = data.get("scope")
        for name in ("partner", "partner_type", "tier"):
            if scope == name and not data.get(name):
                self.add_error(name, "Choose one for this scope.")
            elif scope != name:
                data[name] = None
        return data


class MeasurementUploadForm(forms.Form):
    file = forms.FileField(
        help_text="CSV with the columns partner (id or legal name), kpi (key), date (YYYY-MM-DD), "
        "value.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )


class PortalReportForm(forms.Form):
    kpi = forms.ModelChoiceField(queryset=KpiDefinition.objects.none(), label="KPI")
    date = forms.DateField()
    value = forms.DecimalField(max_digits=20, decimal_places=6)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kpi"].queryset = KpiDefinition.objects.filter(  # type: ignore[attr-defined]
            is_active=True, partner_reported=True
        ).exclude(aggregation=Aggregation.RATIO)
