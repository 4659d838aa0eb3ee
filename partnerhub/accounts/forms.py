from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.db import transaction

from partnerhub.tenancy.context import USER_SETTING, set_db_setting
from partnerhub.tenancy.selectors import memberships_of_user


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )

    def confirm_login_allowed(self, user: Any) -> None:
        """Refuse a user without a membership in an active tenant (e.g. of an exited partner);
        platform staff, who use the Django admin, are exempt."""
        super().confirm_login_allowed(user)
        if user.is_staff:
            return
        with transaction.atomic():
            set_db_setting(USER_SETTING, user.pk)  # RLS shows a user only their own memberships
            has_tenant = bool(memberships_of_user(user.pk))
            set_db_setting(USER_SETTING, None)
        if not has_tenant:
            raise forms.ValidationError(
                "Your account no longer has access to any PartnerHub tenant.", code="no_tenant"
            )


class OtpForm(forms.Form):
    otp = forms.CharField(
        label="Authentication code",
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class TotpConfirmForm(OtpForm):
    def __init__(self, *args: Any, device: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.device = device

    def clean_otp(self) -> str:
        code = self.cleaned_data["otp"]
        if not self.device.verify_token(code):
            raise forms.ValidationError("That code is not valid; check your device's clock.")
        return code


class TenantSwitchForm(forms.Form):
    tenant = forms.IntegerField()
