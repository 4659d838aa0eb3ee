from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
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
