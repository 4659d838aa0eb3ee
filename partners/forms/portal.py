"""Forms of the public application and the partner portal. They check input; services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.password_validation import (
    password_validators_help_text_html,
    validate_password,
)
from django.core.exceptions import ValidationError

from partnerhub.accounts.models import User
from partners.models import ChecklistStep, Document, DocumentType, Partner, PartnerType
from partners.models.onboarding import Evidence
from partners.models.registry import country_validator
from partners.services.portal import BANK_FIELDS, COMPANY_FIELDS


def apply_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form: on the field it names when the form has
    that field, otherwise above the form."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            target = name if name in form.fields else None
            for message in errors:
                if target is None and name not in ("__all__", "non_field_errors", "payload"):
                    message = f"{name.replace('_', ' ').capitalize()}: {message}"
                form.add_error(target, message)
    else:
        for error in exc.error_list:
            # Upload checks (code "file_type", "file_size", ...) belong to the file field.
            code = error.code or ""
            target = "file" if code.startswith("file_") and "file" in form.fields else None
            form.add_error(target, error.messages[0])


class CountryField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 2)
        kwargs.setdefault("min_length", 2)
        kwargs.setdefault("help_text", "Two-letter ISO code, e.g. DE, GB, FR.")
        kwargs.setdefault(
            "widget", forms.TextInput(attrs={"autocomplete": "country", "class": "text-uppercase"})
        )
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str:
        value = super().clean(value).upper()
        if value:
            country_validator(value)
        return str(value)


class ApplicationForm(forms.Form):
    legal_name = forms.CharField(label="Legal company name", max_length=200)
    trading_name = forms.CharField(label="Trading name", max_length=200, required=False)
    country = CountryField(label="Country")
    website = forms.URLField(
        label="Website", required=False, assume_scheme="https", widget=forms.URLInput()
    )
    partner_type = forms.ModelChoiceField(
        label="Partnership type", queryset=PartnerType.objects.none(), empty_label="Choose…"
    )
    offering = forms.CharField(
        label="What you offer",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=4000,
        help_text="Your products or services and what you would like to do with us.",
    )
    contact_name = forms.CharField(
        label="Your name",
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    contact_email = forms.EmailField(
        label="Your email",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text="We send a link to confirm it.",
    )
    contact_phone = forms.CharField(
        label="Phone",
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Built per request, inside the tenant: the types of this tenant only.
        self.fields["partner_type"].queryset = PartnerType.objects.order_by("name")  # type: ignore[attr-defined]


class AccountPasswordForm(forms.Form):
    """Set up a portal account: a new password (twice), or the password of an existing account
    of the same email address in another tenant."""

    full_name = forms.CharField(
        label="Your name",
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(
        self,
        *args: Any,
        email: str,
        existing_account: bool,
        ask_name: bool = False,
        full_name: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.email = email
        self.existing_account = existing_account
        self.default_name = full_name
        if existing_account:
            del self.fields["password2"]
            password = self.fields["password1"]
            password.label = "Your current PartnerHub password"
            password.help_text = (
                f"{email} already has a PartnerHub account with another operator: confirm it "
                "is yours with its password."
            )
            password.widget.attrs["autocomplete"] = "current-password"
        if existing_account or not ask_name:
            del self.fields["full_name"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        password = cleaned.get("password1")
        if self.existing_account or not password:
            return cleaned
        if password != cleaned.get("password2"):
            self.add_error("password2", "The two passwords do not match.")
            return cleaned
        name = cleaned.get("full_name") or self.default_name
        try:
            validate_password(password, user=User(email=self.email, full_name=name))
        except ValidationError as exc:
            self.add_error("password1", exc)
        return cleaned


class StepCompleteForm(forms.Form):
    note = forms.CharField(
        label="Note", required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=4000
    )
    document = forms.ModelChoiceField(
        label="One of your documents",
        queryset=Document.objects.none(),
        required=False,
        empty_label="None",
    )
    file = forms.FileField(label="Or upload a file", required=False)

    def __init__(self, *args: Any, partner: Partner, step: ChecklistStep, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.step = step
        self.fields["document"].queryset = Document.objects.filter(partner=partner)  # type: ignore[attr-defined]
        if step.evidence == Evidence.NOTE:
            self.fields["note"].help_text = "This step needs a note."
        elif step.evidence == Evidence.DOCUMENT:
            self.fields["file"].help_text = "PDF, PNG, JPEG, XLSX or CSV; the content is checked."

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("document") and cleaned.get("file"):
            raise ValidationError("Choose an existing document or upload a file, not both.")
        return cleaned


class DocumentUploadForm(forms.Form):
    file = forms.FileField(label="File", help_text="PDF, PNG, JPEG, XLSX or CSV.")
    doc_type = forms.ChoiceField(label="Type", choices=DocumentType.choices)
    title = forms.CharField(label="Title", max_length=200, required=False)
    issued_on = forms.DateField(label="Issued on", required=False)
    expires_on = forms.DateField(label="Expires on", required=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        issued, expires = cleaned.get("issued_on"), cleaned.get("expires_on")
        if issued and expires and expires < issued:
            self.add_error("expires_on", "The expiry date is before the issue date.")
        return cleaned


class CompanyChangeForm(forms.Form):
    legal_name = forms.CharField(label="Legal company name", max_length=200)
    trading_name = forms.CharField(label="Trading name", max_length=200, required=False)
    registration_number = forms.CharField(
        label="Registration number", max_length=64, required=False
    )
    tax_id = forms.CharField(label="Tax id", max_length=64, required=False)
    country = CountryField(label="Country")
    website = forms.URLField(label="Website", required=False, assume_scheme="https")

    @classmethod
    def initial_for(cls, partner: Partner) -> dict[str, str]:
        return {name: getattr(partner, name) or "" for name in COMPANY_FIELDS}

    def payload(self) -> dict[str, str]:
        return {name: self.cleaned_data.get(name) or "" for name in COMPANY_FIELDS}


class BankChangeForm(forms.Form):
    account_holder = forms.CharField(label="Account holder", max_length=200, required=False)
    iban = forms.CharField(
        label="IBAN",
        max_length=42,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    swift_bic = forms.CharField(label="SWIFT/BIC", max_length=11, required=False)
    bank_name = forms.CharField(label="Bank name", max_length=200, required=False)
    currency = forms.CharField(label="Currency", max_length=3, min_length=3, initial="EUR")

    def __init__(self, *args: Any, has_current: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.has_current = has_current
        if has_current:
            self.fields["iban"].help_text = "Leave empty to keep the current account number."
        else:
            self.fields["account_holder"].required = True
            self.fields["iban"].required = True

    def payload(self) -> dict[str, str]:
        values = {name: self.cleaned_data.get(name) or "" for name in BANK_FIELDS}
        if self.has_current and not values["iban"]:
            del values["iban"]
        return values


class InviteForm(forms.Form):
    email = forms.EmailField(
        label="Colleague's email", widget=forms.EmailInput(attrs={"autocomplete": "off"})
    )
