"""Forms of interactions and disputes (CSP pages and portal). Querysets are set per request."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone

from partnerhub.accounts.models import User
from partnerhub.tenancy.models import Membership
from partners.forms.agreements import DateInput
from partners.models import Agreement, Dispute, DisputeStatus, Interaction, Partner, PartnerStatus
from partners.services.relationship import CSP_HANDLER_ROLES


def handler_users() -> QuerySet[User]:
    """The tenant's admins and partner managers: who may own a dispute."""
    return User.objects.filter(
        pk__in=Membership.objects.filter(role__in=CSP_HANDLER_ROLES).values("user_id"),
        is_active=True,
    ).order_by("full_name", "email")


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.full_name} ({obj.email})" if obj.full_name else obj.email


class InteractionForm(forms.Form):
    kind = forms.ChoiceField(choices=Interaction.Kind.choices)
    occurred_on = forms.DateField(label="Date", widget=DateInput())
    subject = forms.CharField(max_length=200)
    participants = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="Who took part."
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    next_steps = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    follow_up_on = forms.DateField(label="Follow up on", required=False, widget=DateInput())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["occurred_on"].initial = timezone.localdate()


class DisputeBaseForm(forms.Form):
    category = forms.ChoiceField(choices=Dispute.Category.choices)
    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}))
    agreement = forms.ModelChoiceField(
        queryset=Agreement.objects.none(),
        required=False,
        label="Linked agreement",
        empty_label="None",
    )


class DisputeCreateForm(DisputeBaseForm):
    """CSP staff open a dispute about any partner; the agreement must be that partner's."""

    field_order = ["partner"]

    partner = forms.ModelChoiceField(queryset=Partner.objects.none())
    owner = UserChoiceField(queryset=User.objects.none(), required=False, empty_label="Nobody yet")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["partner"].queryset = Partner.objects.exclude(  # type: ignore[attr-defined]
            status__in=(PartnerStatus.EXITED, PartnerStatus.REJECTED)
        ).order_by("legal_name")
        self.fields["agreement"].queryset = Agreement.objects.select_related(  # type: ignore[attr-defined]
            "partner"
        ).order_by("reference")
        self.fields["owner"].queryset = handler_users()  # type: ignore[attr-defined]


class PortalDisputeForm(DisputeBaseForm):
    """A partner raises a dispute: only its own agreements can be linked."""

    def __init__(self, *args: Any, partner: Partner, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agreement"].queryset = Agreement.objects.filter(  # type: ignore[attr-defined]
            partner=partner
        ).order_by("reference")


class DisputeCommentForm(forms.Form):
    body = forms.CharField(label="Comment", widget=forms.Textarea(attrs={"rows": 3}))
    attachment = forms.FileField(required=False, help_text="Optional: PDF, PNG, JPEG, XLSX or CSV.")


class DisputeTransitionForm(forms.Form):
    to_status = forms.ChoiceField(label="New status", choices=DisputeStatus.choices)
    resolution = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required to resolve or reject.",
    )


class DisputeAssignForm(forms.Form):
    owner = UserChoiceField(queryset=User.objects.none(), empty_label=None)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = handler_users()  # type: ignore[attr-defined]
