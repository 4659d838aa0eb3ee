"""Login (with optional TOTP second step), logout, tenant switcher, two-factor setup."""

from __future__ import annotations

import base64
from io import BytesIO
from typing import Any

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_otp import devices_for_user
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_ratelimit.decorators import ratelimit

from partnerhub.accounts.forms import (
    EmailAuthenticationForm,
    OtpForm,
    TenantSwitchForm,
    TotpConfirmForm,
)
from partnerhub.tenancy.middleware import SESSION_KEY

PENDING_USER = "partnerhub_pending_2fa_user"
PENDING_NEXT = "partnerhub_pending_2fa_next"


class LoginView(auth_views.LoginView):
    """Password first; users with a confirmed TOTP device then give a code."""

    form_class = EmailAuthenticationForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        user = form.get_user()
        if any(True for _ in devices_for_user(user, confirmed=True)):
            self.request.session[PENDING_USER] = user.pk
            self.request.session[PENDING_NEXT] = self.get_success_url()
            return redirect("accounts:login-otp")
        return super().form_valid(form)


def login_otp(request: HttpRequest) -> HttpResponse:
    user_id = request.session.get(PENDING_USER)
    if user_id is None:
        return redirect("accounts:login")
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return redirect("accounts:login")
    form = OtpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = next(
            (
                d
                for d in devices_for_user(user, confirmed=True)
                if d.verify_token(form.cleaned_data["otp"])
            ),
            None,
        )
        if device is not None:
            next_url = request.session.pop(PENDING_NEXT, "")
            request.session.pop(PENDING_USER, None)
            auth_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            otp_login(request, device)
            if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
                next_url = reverse("core:dashboard")
            return HttpResponseRedirect(next_url)
        form.add_error("otp", "That code is not valid.")
    return render(request, "accounts/login_otp.html", {"form": form})


@require_POST
@login_required
def tenant_switch(request: HttpRequest) -> HttpResponse:
    form = TenantSwitchForm(request.POST)
    memberships = getattr(request, "user_memberships", [])
    if form.is_valid():
        wanted = form.cleaned_data["tenant"]
        match = next((m for m in memberships if m.tenant_id == wanted), None)
        if match is not None:
            request.session[SESSION_KEY] = match.tenant_id
            messages.success(request, f"Switched to {match.tenant.name}.")
            return redirect("core:dashboard")
    messages.error(request, "You are not a member of that tenant.")
    return redirect("core:dashboard")


@login_required
def two_factor(request: HttpRequest) -> HttpResponse:
    """Set up, confirm or remove a TOTP authenticator for the signed-in user."""
    user = request.user
    confirmed = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if request.method == "POST" and request.POST.get("action") == "disable" and confirmed:
        TOTPDevice.objects.filter(user=user).delete()
        messages.success(request, "Two-factor authentication is off.")
        return redirect("accounts:two-factor")
    if confirmed:
        return render(request, "accounts/two_factor.html", {"enabled": True})
    device, _ = TOTPDevice.objects.get_or_create(
        user=user, confirmed=False, defaults={"name": "Authenticator app"}
    )
    form = TotpConfirmForm(request.POST or None, device=device)
    if request.method == "POST" and form.is_valid():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        otp_login(request, device)
        messages.success(request, "Two-factor authentication is on.")
        return redirect("accounts:two-factor")
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage)
    buffer = BytesIO()
    image.save(buffer)
    context: dict[str, Any] = {
        "enabled": False,
        "form": form,
        "qr_data_uri": "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode(),
        "secret": base64.b32encode(device.bin_key).decode(),
    }
    return render(request, "accounts/two_factor.html", context)


@method_decorator(
    ratelimit(key="ip", rate=settings.RATELIMIT_PASSWORD_RESET, method="POST", block=True),
    name="post",
)
class PasswordResetView(auth_views.PasswordResetView):
    """Django's password reset, rate-limited per client address: each request sends an email."""
