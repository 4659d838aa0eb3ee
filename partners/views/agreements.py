"""Pages: agreements (see partners/urls.py): list, export, detail, forms, workflow actions,
and the agreements panel that the partner detail page loads with htmx."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, URLResolver, path
from django.utils import timezone
from django.views import View
from django.views.generic import ListView

from partnerhub.accounts.permissions import RolePermissionRequiredMixin, request_role
from partnerhub.accounts.roles import Perm, role_has_perm
from partners.exports import filtered_export
from partners.forms.agreements import (
    AgreementAmendForm,
    AgreementCreateForm,
    AgreementEditForm,
    AgreementReviewForm,
    AgreementSignForm,
    AgreementTransitionForm,
    apply_errors,
    terms_initial,
)
from partners.models import Agreement, AgreementStatus, Partner
from partners.selectors import agreements as selectors
from partners.services import agreements as services


def can_change(request: HttpRequest) -> bool:
    return role_has_perm(request_role(request), Perm.PARTNERS_CHANGE)


def _agreement(pk: int) -> Agreement:
    try:
        return selectors.agreement_detail(pk)
    except Agreement.DoesNotExist as exc:
        raise Http404("No such agreement.") from exc


class AgreementListView(RolePermissionRequiredMixin, ListView):
    """Every agreement: filters (partner, type, status, ending soon, review due), export."""

    template_name = "partners/agreements/list.html"
    read_perm = Perm.PARTNERS_VIEW
    paginate_by = 25

    def get_queryset(self) -> Any:
        self.filterset = selectors.AgreementFilter(
            self.request.GET, queryset=selectors.agreement_list(), request=self.request
        )
        return self.filterset.qs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        query.pop("page", None)
        context.update(
            filter=self.filterset,
            filter_query=query.urlencode(),
            filtered=any(v for k, v in self.request.GET.items() if k != "page"),
            can_change=can_change(self.request),
            today=timezone.localdate(),
        )
        return context


class AgreementExportView(RolePermissionRequiredMixin, View):
    """The filtered list as CSV or XLSX (``?file_format=csv|xlsx`` plus the list's filters)."""

    read_perm = Perm.PARTNERS_VIEW

    def get(self, request: HttpRequest) -> HttpResponseBase:
        return filtered_export(
            request,
            filterset=selectors.AgreementFilter(
                request.GET, queryset=selectors.agreement_list(), request=request
            ),
            rows=selectors.agreement_export_rows,
            columns=selectors.AGREEMENT_EXPORT_COLUMNS,
            name="agreements",
        )


class AgreementCreateView(RolePermissionRequiredMixin, View):
    read_perm = Perm.PARTNERS_CHANGE
    write_perm = Perm.PARTNERS_CHANGE
    template_name = "partners/agreements/form.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        initial: dict[str, Any] = {"start_date": timezone.localdate()}
        partner_id = request.GET.get("partner", "")
        if partner_id.isdigit():
            initial["partner"] = Partner.objects.filter(pk=int(partner_id)).first()
        return self._render(AgreementCreateForm(initial=initial))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = AgreementCreateForm(request.POST)
        if form.is_valid():
            try:
                agreement = services.agreement_create(**form.cleaned_data)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, f"Draft agreement {agreement.reference} created.")
                return redirect("partners:agreement-detail", pk=agreement.pk)
        return self._render(form, status=400)

    def _render(self, form: AgreementCreateForm, status: int = 200) -> HttpResponse:
        return render(
            self.request, self.template_name, {"form": form, "mode": "create"}, status=status
        )


class AgreementEditView(RolePermissionRequiredMixin, View):
    """Edit a draft in place."""

    read_perm = Perm.PARTNERS_CHANGE
    write_perm = Perm.PARTNERS_CHANGE
    template_name = "partners/agreements/form.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        agreement = _agreement(pk)
        if agreement.status != AgreementStatus.DRAFT:
            messages.info(request, "Only drafts are edited in place: amend this agreement.")
            return redirect("partners:agreement-amend", pk=pk)
        form = AgreementEditForm(initial=terms_initial(agreement))
        return self._render(agreement, form)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        agreement = _agreement(pk)
        form = AgreementEditForm(request.POST)
        if form.is_valid():
            try:
                services.agreement_update(agreement=agreement, **form.cleaned_data)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, f"Draft {agreement.reference} saved.")
                return redirect("partners:agreement-detail", pk=pk)
        return self._render(agreement, form, status=400)

    def _render(self, agreement: Agreement, form: Any, status: int = 200) -> HttpResponse:
        return render(
            self.request,
            self.template_name,
            {"form": form, "agreement": agreement, "mode": "edit"},
            status=status,
        )


class AgreementAmendView(RolePermissionRequiredMixin, View):
    """Amend a live agreement: the current terms stay readable as a version."""

    read_perm = Perm.PARTNERS_CHANGE
    write_perm = Perm.PARTNERS_CHANGE
    template_name = "partners/agreements/form.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        agreement = _agreement(pk)
        return self._render(agreement, AgreementAmendForm(initial=terms_initial(agreement)))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        agreement = _agreement(pk)
        form = AgreementAmendForm(request.POST)
        if form.is_valid():
            try:
                amended = services.agreement_amend(
                    agreement=agreement,
                    changes=form.changes(agreement),
                    reason=form.cleaned_data["reason"],
                    actor=request.user,  # type: ignore[arg-type]
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(
                    request, f"{amended.reference} amended: now version {amended.version}."
                )
                return redirect("partners:agreement-detail", pk=pk)
        return self._render(agreement, form, status=400)

    def _render(self, agreement: Agreement, form: Any, status: int = 200) -> HttpResponse:
        return render(
            self.request,
            self.template_name,
            {"form": form, "agreement": agreement, "mode": "amend"},
            status=status,
        )


class AgreementDetailView(RolePermissionRequiredMixin, View):
    """Current terms, every version with what changed, reviews, and the workflow actions."""

    read_perm = Perm.PARTNERS_VIEW

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        agreement = _agreement(pk)
        history = selectors.agreement_version_history(agreement)
        next_statuses = [
            (s, AgreementStatus(s).label)
            for s in (
                AgreementStatus.PENDING_SIGNATURE,
                AgreementStatus.ACTIVE,
                AgreementStatus.DRAFT,
                AgreementStatus.EXPIRED,
                AgreementStatus.TERMINATED,
            )
            if s in services.TRANSITIONS[AgreementStatus(agreement.status)]
        ]
        context = {
            "agreement": agreement,
            "history": list(reversed(history)),
            "reviews": list(agreement.reviews.all()),
            "next_statuses": next_statuses,
            "can_change": can_change(request),
            "can_amend": agreement.status in services.AMENDABLE,
            "review_form": AgreementReviewForm(),
            "sign_form": AgreementSignForm(partner=agreement.partner),
            "today": timezone.localdate(),
        }
        return render(request, "partners/agreements/detail.html", context)


class AgreementActionView(RolePermissionRequiredMixin, View):
    """Base of the POST-only workflow actions: run, say what happened, back to the detail."""

    read_perm = Perm.PARTNERS_CHANGE
    write_perm = Perm.PARTNERS_CHANGE
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        agreement = _agreement(pk)
        try:
            message = self.act(request, agreement)
        except ValidationError as exc:
            messages.error(request, " ".join(_messages(exc)))
        else:
            messages.success(request, message)
        return redirect("partners:agreement-detail", pk=pk)

    def act(self, request: HttpRequest, agreement: Agreement) -> str:
        raise NotImplementedError


def _messages(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [m for errors in exc.message_dict.values() for m in errors]
    return list(exc.messages)


def _form_error(form: Any) -> ValidationError:
    return ValidationError([m for errors in form.errors.values() for m in errors])


class AgreementTransitionView(AgreementActionView):
    def act(self, request: HttpRequest, agreement: Agreement) -> str:
        form = AgreementTransitionForm(request.POST)
        if not form.is_valid():
            raise _form_error(form)
        moved = services.agreement_transition(
            agreement=agreement,
            to_status=form.cleaned_data["to_status"],
            actor=request.user,  # type: ignore[arg-type]
        )
        return f"{moved.reference} is now {moved.get_status_display().lower()}."


class AgreementReviewView(AgreementActionView):
    def act(self, request: HttpRequest, agreement: Agreement) -> str:
        form = AgreementReviewForm(request.POST)
        if not form.is_valid():
            raise _form_error(form)
        review = services.agreement_review_complete(
            agreement=agreement,
            actor=request.user,  # type: ignore[arg-type]
            notes=form.cleaned_data["notes"],
        )
        return f"Review recorded; the next one is due on {review.next_review_date:%d %b %Y}."


class AgreementSignView(AgreementActionView):
    def act(self, request: HttpRequest, agreement: Agreement) -> str:
        form = AgreementSignForm(request.POST, partner=agreement.partner)
        if not form.is_valid():
            raise _form_error(form)
        services.agreement_sign(
            agreement=agreement,
            document=form.cleaned_data["document"],
            actor=request.user,  # type: ignore[arg-type]
        )
        return "Signed document attached."


class AgreementDeleteView(RolePermissionRequiredMixin, View):
    read_perm = Perm.PARTNERS_CHANGE
    write_perm = Perm.PARTNERS_CHANGE
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        agreement = _agreement(pk)
        try:
            services.agreement_delete(agreement=agreement)
        except ValidationError as exc:
            messages.error(request, " ".join(_messages(exc)))
            return redirect("partners:agreement-detail", pk=pk)
        messages.success(request, f"Draft {agreement.reference} deleted.")
        return redirect("partners:agreement-list")


class AgreementsPanelView(RolePermissionRequiredMixin, View):
    """The partner detail page's agreements tab (an htmx fragment)."""

    read_perm = Perm.PARTNERS_VIEW

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        partner = get_object_or_404(Partner.objects.all(), pk=pk)
        context = {
            "partner": partner,
            "agreements": list(selectors.agreements_of_partner(partner)),
            "can_change": can_change(request),
            "today": timezone.localdate(),
        }
        return render(request, "partners/agreements/_panel.html", context)


urlpatterns: list[URLPattern | URLResolver] = [
    path("agreements/", AgreementListView.as_view(), name="agreement-list"),
    path("agreements/export/", AgreementExportView.as_view(), name="agreement-export"),
    path("agreements/new/", AgreementCreateView.as_view(), name="agreement-create"),
    path("agreements/<int:pk>/", AgreementDetailView.as_view(), name="agreement-detail"),
    path("agreements/<int:pk>/edit/", AgreementEditView.as_view(), name="agreement-edit"),
    path("agreements/<int:pk>/amend/", AgreementAmendView.as_view(), name="agreement-amend"),
    path(
        "agreements/<int:pk>/transition/",
        AgreementTransitionView.as_view(),
        name="agreement-transition",
    ),
    path("agreements/<int:pk>/review/", AgreementReviewView.as_view(), name="agreement-review"),
    path("agreements/<int:pk>/sign/", AgreementSignView.as_view(), name="agreement-sign"),
    path("agreements/<int:pk>/delete/", AgreementDeleteView.as_view(), name="agreement-delete"),
    path("<int:pk>/agreements/", AgreementsPanelView.as_view(), name="agreements-panel"),
]
