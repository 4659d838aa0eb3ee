"""Pages of the public application (/apply/<tenant>/) and of the partner portal (/portal/).

Mounted at the site root in namespace "portal" by partners/portal_urls.py. Portal pages take
the partner from the signed-in user (PortalRequiredMixin) and read only through
partners.selectors.portal, which never returns another partner's rows.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, URLResolver, path
from django.utils.decorators import method_decorator
from django.views import View
from django.views.generic import TemplateView
from django_ratelimit.decorators import ratelimit

from partnerhub.accounts.models import User
from partnerhub.tenancy.context import tenant_context
from partnerhub.tenancy.middleware import SESSION_KEY
from partnerhub.tenancy.models import Membership, Tenant
from partners.access import PortalRequiredMixin
from partners.forms.portal import (
    AccountPasswordForm,
    ApplicationForm,
    BankChangeForm,
    CompanyChangeForm,
    DocumentUploadForm,
    InviteForm,
    StepCompleteForm,
    apply_service_errors,
)
from partners.models import ChangeRequest
from partners.selectors import portal as selectors
from partners.services import portal as services
from partners.services.documents import document_upload, open_document


def _site_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


# --- public pages of one tenant --------------------------------------------------------------


class PublicTenantView(View):
    """A page anyone may open, run inside the tenant named in the URL (unknown or inactive: 404).

    TenantMiddleware activates no tenant for anonymous visitors, so the view does it, and renders
    its response inside that scope.
    """

    tenant: Tenant

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        tenant = Tenant.objects.filter(slug=kwargs["tenant_slug"], is_active=True).first()
        if tenant is None:
            raise Http404("No such operator.")
        self.tenant = tenant
        with tenant_context(tenant):
            response = super().dispatch(request, *args, **kwargs)
            if isinstance(response, TemplateResponse):
                response.render()
        return response

    def render(self, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
        context.setdefault("tenant", self.tenant)
        return TemplateResponse(self.request, f"partners/portal/{template}", context, status=status)

    def sign_in(self, user: User) -> None:
        auth_login(self.request, user, backend="django.contrib.auth.backends.ModelBackend")
        self.request.session[SESSION_KEY] = self.tenant.pk


@method_decorator(
    ratelimit(key="ip", rate=settings.RATELIMIT_APPLY, method="POST", block=True), name="post"
)
class ApplyView(PublicTenantView):
    """The 'become a partner' form of a tenant (rate-limited per client address)."""

    def get(self, request: HttpRequest, tenant_slug: str) -> HttpResponse:
        return self.render("apply.html", {"form": ApplicationForm()})

    def post(self, request: HttpRequest, tenant_slug: str) -> HttpResponse:
        form = ApplicationForm(request.POST)
        if form.is_valid():
            try:
                issued = services.application_submit(
                    **form.cleaned_data, site_url=_site_url(request)
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                request.session["portal_applied_email"] = issued.application.contact_email
                return redirect("portal:apply-sent", tenant_slug=self.tenant.slug)
        return self.render("apply.html", {"form": form}, status=400)


class ApplySentView(PublicTenantView):
    def get(self, request: HttpRequest, tenant_slug: str) -> HttpResponse:
        email = request.session.get("portal_applied_email", "")
        return self.render("apply_sent.html", {"email": email})


class ApplyConfirmView(PublicTenantView):
    """The emailed link: the applicant sets a password; the partner and the account appear."""

    def _context(self, token: str) -> dict[str, Any] | None:
        application = selectors.application_by_token(raw_token=token)
        if application is None:
            return None
        user = User.objects.filter(email__iexact=application.contact_email).first()
        taken = user is not None and Membership.objects.filter(user=user).exists()
        return {
            "application": application,
            "account_exists_here": taken,
            "existing_account": user is not None,
        }

    def _form(self, context: dict[str, Any], data: Any = None) -> AccountPasswordForm:
        application = context["application"]
        return AccountPasswordForm(
            data,
            email=application.contact_email,
            existing_account=context["existing_account"],
            full_name=application.contact_name,
        )

    def get(self, request: HttpRequest, tenant_slug: str, token: str) -> HttpResponse:
        context = self._context(token)
        if context is None:
            return self.render("link_invalid.html", {"what": "confirmation link"}, status=404)
        context["form"] = self._form(context)
        return self.render("apply_confirm.html", context)

    def post(self, request: HttpRequest, tenant_slug: str, token: str) -> HttpResponse:
        context = self._context(token)
        if context is None:
            return self.render("link_invalid.html", {"what": "confirmation link"}, status=404)
        form = context["form"] = self._form(context, request.POST)
        if form.is_valid():
            try:
                confirmed = services.application_confirm(
                    application=context["application"], password=form.cleaned_data["password1"]
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                self.sign_in(confirmed.user)
                messages.success(
                    request,
                    f"Welcome to the {self.tenant.name} partner portal. Your application for "
                    f"{confirmed.partner.legal_name} is in; we will be in touch.",
                )
                return redirect("portal:home")
        return self.render("apply_confirm.html", context, status=400)


class InviteAcceptView(PublicTenantView):
    """An invited colleague sets up their portal account."""

    def _context(self, token: str) -> dict[str, Any] | None:
        invitation = selectors.invitation_by_token(raw_token=token)
        if invitation is None:
            return None
        user = User.objects.filter(email__iexact=invitation.email).first()
        return {
            "invitation": invitation,
            "account_exists_here": user is not None
            and Membership.objects.filter(user=user).exists(),
            "existing_account": user is not None,
        }

    def _form(self, context: dict[str, Any], data: Any = None) -> AccountPasswordForm:
        return AccountPasswordForm(
            data,
            email=context["invitation"].email,
            existing_account=context["existing_account"],
            ask_name=True,
        )

    def get(self, request: HttpRequest, tenant_slug: str, token: str) -> HttpResponse:
        context = self._context(token)
        if context is None:
            return self.render("link_invalid.html", {"what": "invitation"}, status=404)
        context["form"] = self._form(context)
        return self.render("invite_accept.html", context)

    def post(self, request: HttpRequest, tenant_slug: str, token: str) -> HttpResponse:
        context = self._context(token)
        if context is None:
            return self.render("link_invalid.html", {"what": "invitation"}, status=404)
        form = context["form"] = self._form(context, request.POST)
        if form.is_valid():
            try:
                user = services.invitation_accept(
                    invitation=context["invitation"],
                    password=form.cleaned_data["password1"],
                    full_name=form.cleaned_data.get("full_name", ""),
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                self.sign_in(user)
                messages.success(request, f"Welcome to the {self.tenant.name} partner portal.")
                return redirect("portal:home")
        return self.render("invite_accept.html", context, status=400)


# --- the portal ------------------------------------------------------------------------------


class PortalPage(PortalRequiredMixin, TemplateView):
    section = ""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["partner"] = self.partner
        context["section"] = self.section
        return context

    def invalid(self, **context: Any) -> HttpResponse:
        return self.render_to_response(self.get_context_data(**context), status=400)


class PortalHomeView(PortalPage):
    template_name = "partners/portal/home.html"
    section = "home"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["overview"] = selectors.portal_overview(partner=self.partner)
        context["partner"] = context["overview"].partner
        context["pending_changes"] = list(
            selectors.portal_change_requests(partner=self.partner).filter(
                status=ChangeRequest.Status.PENDING
            )
        )
        return context


class ChecklistView(PortalPage):
    template_name = "partners/portal/checklist.html"
    section = "checklist"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["overview"] = selectors.portal_overview(partner=self.partner)
        return context


class StepCompleteView(PortalPage):
    template_name = "partners/portal/step_complete.html"
    section = "checklist"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        step = selectors.portal_step_get(partner=self.partner, pk=self.kwargs["pk"])
        context["step"] = step
        context.setdefault("form", StepCompleteForm(partner=self.partner, step=step))
        return context

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        step = selectors.portal_step_get(partner=self.partner, pk=pk)
        form = StepCompleteForm(request.POST, request.FILES, partner=self.partner, step=step)
        if form.is_valid():
            try:
                services.portal_step_complete(
                    partner=self.partner,
                    step=step,
                    actor=request.user,  # type: ignore[arg-type]
                    note=form.cleaned_data["note"],
                    document=form.cleaned_data["document"],
                    upload=form.cleaned_data["file"],
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, f"“{step.title}” is done. Thank you.")
                return redirect("portal:checklist")
        return self.invalid(form=form)


class DocumentsView(PortalPage):
    template_name = "partners/portal/documents.html"
    section = "documents"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["documents"] = list(selectors.portal_documents(partner=self.partner))
        context.setdefault("form", DocumentUploadForm())
        return context

    def post(self, request: HttpRequest) -> HttpResponse:
        form = DocumentUploadForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                document = document_upload(
                    partner=self.partner,
                    upload=data["file"],
                    doc_type=data["doc_type"],
                    uploaded_by=request.user,  # type: ignore[arg-type]
                    title=data["title"],
                    issued_on=data["issued_on"],
                    expires_on=data["expires_on"],
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, f"“{document}” is uploaded.")
                return redirect("portal:documents")
        return self.invalid(form=form)


def download_response(document: Any) -> FileResponse:
    """A stored document as an attachment, never rendered inline by the browser."""
    response = FileResponse(
        open_document(document),
        as_attachment=True,
        filename=document.original_name,
        content_type=document.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


class DocumentDownloadView(PortalRequiredMixin, View):
    def get(self, request: HttpRequest, pk: int) -> FileResponse:
        return download_response(selectors.portal_document_get(partner=self.partner, pk=pk))


class AgreementListView(PortalPage):
    template_name = "partners/portal/agreements.html"
    section = "agreements"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        agreements = list(selectors.portal_agreements(partner=self.partner))
        context["agreements"] = [(a, selectors.agreement_can_be_accepted(a)) for a in agreements]
        return context


class AgreementDetailView(PortalPage):
    template_name = "partners/portal/agreement_detail.html"
    section = "agreements"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        agreement = selectors.portal_agreement_get(partner=self.partner, pk=self.kwargs["pk"])
        context["agreement"] = agreement
        context["can_accept"] = selectors.agreement_can_be_accepted(agreement)
        return context


class AgreementAcceptView(PortalRequiredMixin, View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        agreement = selectors.portal_agreement_get(partner=self.partner, pk=pk)
        try:
            services.portal_agreement_accept(
                partner=self.partner,
                agreement=agreement,
                actor=request.user,  # type: ignore[arg-type]
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"You accepted {agreement.reference}.")
        return redirect("portal:agreement-detail", pk=pk)


class ChangeRequestPage(PortalPage):
    kind: str = ""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        requests = list(selectors.portal_change_requests(partner=self.partner, kind=self.kind))
        context["change_requests"] = requests
        context["pending"] = next(
            (r for r in requests if r.status == ChangeRequest.Status.PENDING), None
        )
        return context

    def create(self, form: CompanyChangeForm | BankChangeForm) -> HttpResponse:
        if form.is_valid():
            try:
                services.change_request_create(
                    partner=self.partner,
                    kind=self.kind,
                    payload=form.payload(),
                    requested_by=self.request.user,  # type: ignore[arg-type]
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(
                    self.request,
                    "Your change is sent. It applies once the operator has approved it.",
                )
                return redirect(self.request.path)
        return self.invalid(form=form)


class CompanyView(ChangeRequestPage):
    template_name = "partners/portal/company.html"
    section = "company"
    kind = ChangeRequest.Kind.COMPANY

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["partner"] = selectors.portal_partner_get(partner=self.partner)
        context.setdefault(
            "form", CompanyChangeForm(initial=CompanyChangeForm.initial_for(self.partner))
        )
        return context

    def post(self, request: HttpRequest) -> HttpResponse:
        return self.create(CompanyChangeForm(request.POST))


class BankDetailsView(ChangeRequestPage):
    template_name = "partners/portal/bank_details.html"
    section = "company"
    kind = ChangeRequest.Kind.BANK

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        current = selectors.portal_bank_details(partner=self.partner)
        context["bank"] = current
        if "form" not in context:
            initial = {"currency": "EUR"}
            if current is not None:
                initial = {
                    "account_holder": current.account_holder,
                    "swift_bic": current.swift_bic,
                    "bank_name": current.bank_name,
                    "currency": current.currency,
                }
            context["form"] = BankChangeForm(initial=initial, has_current=current is not None)
        return context

    def post(self, request: HttpRequest) -> HttpResponse:
        current = selectors.portal_bank_details(partner=self.partner)
        return self.create(BankChangeForm(request.POST, has_current=current is not None))


class ColleaguesView(PortalPage):
    template_name = "partners/portal/colleagues.html"
    section = "colleagues"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["colleagues"] = list(selectors.portal_colleagues(partner=self.partner))
        context["invitations"] = list(selectors.portal_invitations_pending(partner=self.partner))
        context.setdefault("form", InviteForm())
        return context

    def post(self, request: HttpRequest) -> HttpResponse:
        form = InviteForm(request.POST)
        if form.is_valid():
            try:
                issued = services.invitation_create(
                    partner=self.partner,
                    email=form.cleaned_data["email"],
                    invited_by=request.user,  # type: ignore[arg-type]
                    site_url=_site_url(request),
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, f"We sent an invitation to {issued.invitation.email}.")
                return redirect("portal:colleagues")
        return self.invalid(form=form)


urlpatterns: list[URLPattern | URLResolver] = [
    path("apply/<slug:tenant_slug>/", ApplyView.as_view(), name="apply"),
    path("apply/<slug:tenant_slug>/sent/", ApplySentView.as_view(), name="apply-sent"),
    path(
        "apply/<slug:tenant_slug>/confirm/<str:token>/",
        ApplyConfirmView.as_view(),
        name="apply-confirm",
    ),
    path("portal/", PortalHomeView.as_view(), name="home"),
    path("portal/checklist/", ChecklistView.as_view(), name="checklist"),
    path("portal/checklist/<int:pk>/complete/", StepCompleteView.as_view(), name="step-complete"),
    path("portal/documents/", DocumentsView.as_view(), name="documents"),
    path(
        "portal/documents/<int:pk>/download/",
        DocumentDownloadView.as_view(),
        name="document-download",
    ),
    path("portal/agreements/", AgreementListView.as_view(), name="agreements"),
    path("portal/agreements/<int:pk>/", AgreementDetailView.as_view(), name="agreement-detail"),
    path(
        "portal/agreements/<int:pk>/accept/",
        AgreementAcceptView.as_view(),
        name="agreement-accept",
    ),
    path("portal/company/", CompanyView.as_view(), name="company"),
    path("portal/bank-details/", BankDetailsView.as_view(), name="bank-details"),
    path("portal/colleagues/", ColleaguesView.as_view(), name="colleagues"),
    path(
        "portal/invite/<slug:tenant_slug>/<str:token>/",
        InviteAcceptView.as_view(),
        name="invite-accept",
    ),
]
