"""Pages of the partner registry (see partners/urls.py): list, detail, forms, downloads."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms import Form
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, URLResolver, path, reverse
from django.views import View
from django.views.generic import ListView

from partnerhub.accounts.models import User
from partnerhub.accounts.permissions import RolePermissionRequiredMixin, request_role
from partnerhub.accounts.roles import Perm, role_has_perm
from partnerhub.core.pagination import PageFirstPaginator
from partners.exports import filtered_export
from partners.forms.registry import (
    BankDetailsForm,
    ContactForm,
    DecisionForm,
    DocumentUploadForm,
    PartnerFilter,
    PartnerForm,
    PartnerTierForm,
    PartnerTypeForm,
    ProgramSettingsForm,
)
from partners.models import Contact, Partner, PartnerTier, PartnerType
from partners.selectors import registry as selectors
from partners.services import registry as services
from partners.services.documents import open_document

EXTRA_TABS = [
    ("onboarding", "Onboarding", "list-check"),
    ("agreements", "Agreements", "file-earmark-text"),
    ("interactions", "Interactions", "chat-left-text"),
    ("disputes", "Disputes", "exclamation-octagon"),
]


def _apply_errors(form: Form, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form: on its fields where they exist."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _user(request: HttpRequest) -> User:
    """The signed-in user (the permission mixin has already turned anonymous users away)."""
    return cast(User, request.user)


def _perms(request: HttpRequest) -> dict[str, bool]:
    role = request_role(request)
    return {
        "can_change": role_has_perm(role, Perm.PARTNERS_CHANGE),
        "can_bank": role_has_perm(role, Perm.PARTNERS_BANK_DETAILS_CHANGE),
        "can_manage": role_has_perm(role, Perm.TENANT_MANAGE),
        "can_kpis": role_has_perm(role, Perm.KPIS_VIEW),
        "can_settlements": role_has_perm(role, Perm.SETTLEMENTS_VIEW),
    }


class PartnerListView(RolePermissionRequiredMixin, ListView):
    """Every partner of the tenant: search, filters, ordering, pages, CSV/XLSX export."""

    template_name = "partners/registry/list.html"
    read_perm = Perm.PARTNERS_VIEW
    paginate_by = 25
    paginator_class = PageFirstPaginator

    def get_queryset(self) -> Any:
        self.filterset = PartnerFilter(
            self.request.GET, queryset=selectors.partner_list(), request=self.request
        )
        return self.filterset.qs

    def paginate_queryset(self, queryset: Any, page_size: int) -> tuple[Any, Any, Any, bool]:
        """Page through the ids (a page shorter than 25 gives the count), then read the page's
        rows with their relations: a deep page of 10,000 partners skips index entries instead
        of thousands of joined rows."""
        paginator, page, ids, is_paginated = super().paginate_queryset(
            queryset.prefetch_related(None).values_list("pk", flat=True), page_size
        )
        page.object_list = selectors.partner_list_rows(ids=list(ids))
        return paginator, page, page.object_list, is_paginated

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        query.pop("page", None)
        context.update(
            filter=self.filterset,
            filter_query=query.urlencode(),
            filtered=any(v for k, v in self.request.GET.items() if k not in ("page", "ordering")),
            ordering=self.request.GET.get("ordering", "name"),
            **_perms(self.request),
        )
        return context


class PartnerExportView(RolePermissionRequiredMixin, View):
    """The filtered partner list as CSV or XLSX (``?file_format=csv|xlsx`` and the filters)."""

    read_perm = Perm.PARTNERS_VIEW

    def get(self, request: HttpRequest) -> HttpResponseBase:
        return filtered_export(
            request,
            filterset=PartnerFilter(
                request.GET, queryset=selectors.partner_list(), request=request
            ),
            rows=selectors.partner_export_rows,
            columns=selectors.PARTNER_EXPORT_COLUMNS,
            name="partners",
        )


class _PartnerList:
    """One filterable, exportable list of a partner's rows: its page panel and its download
    share the selector, the FilterSet and the export rows."""

    name: str
    filterset_class: type[Any]
    template_name: str
    columns: list[str]

    def queryset(self, partner: Partner) -> QuerySet[Any]:
        raise NotImplementedError

    def rows(self, queryset: QuerySet[Any]) -> Iterator[tuple[Any, ...]]:
        raise NotImplementedError

    def filterset(self, request: HttpRequest, partner: Partner, data: QueryDict | None) -> Any:
        filterset = self.filterset_class(data, queryset=self.queryset(partner), request=request)
        # Both panels sit on the partner page and share field names ("search"): distinct ids.
        filterset.form.auto_id = f"{self.name}_filter_%s"
        return filterset

    def context(
        self, request: HttpRequest, partner: Partner, data: QueryDict | None
    ) -> dict[str, Any]:
        """The panel's context; ``data`` None shows the whole list (the partner page)."""
        filterset = self.filterset(request, partner, data)
        query = data.copy() if data is not None else QueryDict()
        return {
            self.name: list(filterset.qs),
            f"{self.name}_filter": filterset,
            f"{self.name}_query": query.urlencode(),
            f"{self.name}_filtered": any(query.values()),
        }


class _Contacts(_PartnerList):
    name = "contacts"
    filterset_class = selectors.ContactFilter
    template_name = "partners/registry/_contacts.html"
    columns = selectors.CONTACT_EXPORT_COLUMNS

    def queryset(self, partner: Partner) -> QuerySet[Any]:
        return selectors.partner_contacts(partner=partner)

    def rows(self, queryset: QuerySet[Any]) -> Iterator[tuple[Any, ...]]:
        return selectors.contact_export_rows(queryset)


class _Documents(_PartnerList):
    name = "documents"
    filterset_class = selectors.DocumentFilter
    template_name = "partners/registry/_documents.html"
    columns = selectors.DOCUMENT_EXPORT_COLUMNS

    def queryset(self, partner: Partner) -> QuerySet[Any]:
        return selectors.partner_documents(partner=partner)

    def rows(self, queryset: QuerySet[Any]) -> Iterator[tuple[Any, ...]]:
        return selectors.document_export_rows(queryset)


CONTACTS = _Contacts()
DOCUMENTS = _Documents()


class PartnerListPanelView(RolePermissionRequiredMixin, View):
    """The contacts or documents panel of the partner page, filtered (htmx fragment)."""

    read_perm = Perm.PARTNERS_VIEW
    listing: _PartnerList = CONTACTS

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        partner = selectors.partner_get(pk=pk)
        context = {
            "partner": partner,
            **self.listing.context(request, partner, request.GET),
            **_perms(request),
        }
        return render(request, self.listing.template_name, context)


class PartnerListExportView(RolePermissionRequiredMixin, View):
    """A partner's contacts or documents, filtered like the panel, as CSV or XLSX."""

    read_perm = Perm.PARTNERS_VIEW
    listing: _PartnerList = CONTACTS

    def get(self, request: HttpRequest, pk: int) -> HttpResponseBase:
        partner = selectors.partner_get(pk=pk)
        return filtered_export(
            request,
            filterset=self.listing.filterset(request, partner, request.GET),
            rows=self.listing.rows,
            columns=self.listing.columns,
            name=f"{self.listing.name}-partner-{partner.pk}",
        )


def _detail(
    request: HttpRequest, partner: Partner, *, status: int = 200, **forms: Form
) -> HttpResponse:
    """The one-screen partner page; ``forms`` replace the blank ones (to show their errors)."""
    context: dict[str, Any] = {
        "partner": partner,
        **CONTACTS.context(request, partner, None),
        "bank_details": selectors.partner_bank_details(partner=partner),
        **DOCUMENTS.context(request, partner, None),
        "change_requests": selectors.partner_pending_change_requests(partner=partner),
        "audit_entries": selectors.partner_audit_trail(partner=partner),
        "subsidiaries": partner.subsidiaries.order_by("legal_name"),
        "upload_form": forms.get("upload_form") or DocumentUploadForm(),
        "extra_tabs": EXTRA_TABS,
        **_perms(request),
    }
    return render(request, "partners/registry/detail.html", context, status=status)


class PartnerDetailView(RolePermissionRequiredMixin, View):
    read_perm = Perm.PARTNERS_VIEW

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return _detail(request, selectors.partner_get(pk=pk))


class PartnerCreateView(RolePermissionRequiredMixin, View):
    read_perm = Perm.PARTNERS_CHANGE
    write_perm = Perm.PARTNERS_CHANGE
    template_name = "partners/registry/partner_form.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, self.template_name, {"form": PartnerForm()})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = PartnerForm(request.POST)
        if form.is_valid():
            try:
                partner = services.partner_create(actor=_user(request), **form.cleaned_data)
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, f"{partner} was registered.")
                return redirect("partners:detail", pk=partner.pk)
        return render(request, self.template_name, {"form": form}, status=400)


class PartnerEditView(RolePermissionRequiredMixin, View):
    read_perm = Perm.PARTNERS_CHANGE
    write_perm = Perm.PARTNERS_CHANGE
    template_name = "partners/registry/partner_form.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        partner = selectors.partner_get(pk=pk)
        form = PartnerForm(instance=partner)
        return render(request, self.template_name, {"form": form, "partner": partner})

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        partner = selectors.partner_get(pk=pk)
        form = PartnerForm(request.POST, instance=partner)
        if form.is_valid():
            try:
                services.partner_update(partner=partner, actor=_user(request), **form.cleaned_data)
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, f"{partner} was saved.")
                return redirect("partners:detail", pk=partner.pk)
        context = {"form": form, "partner": partner}
        return render(request, self.template_name, context, status=400)


class ContactFormView(RolePermissionRequiredMixin, View):
    """Add a contact (no ``contact_pk``) or change one."""

    read_perm = Perm.PARTNERS_CHANGE
    write_perm = Perm.PARTNERS_CHANGE
    template_name = "partners/registry/contact_form.html"

    def _load(self, pk: int, contact_pk: int | None) -> tuple[Partner, Contact | None]:
        partner = selectors.partner_get(pk=pk)
        contact = None
        if contact_pk is not None:
            contact = get_object_or_404(Contact.objects.filter(partner=partner), pk=contact_pk)
        return partner, contact

    def get(self, request: HttpRequest, pk: int, contact_pk: int | None = None) -> HttpResponse:
        partner, contact = self._load(pk, contact_pk)
        initial = (
            {f: getattr(contact, f) for f in ("name", "role", "email", "phone", "is_primary")}
            if contact
            else {}
        )
        context = {"form": ContactForm(initial=initial), "partner": partner, "contact": contact}
        return render(request, self.template_name, context)

    def post(self, request: HttpRequest, pk: int, contact_pk: int | None = None) -> HttpResponse:
        partner, contact = self._load(pk, contact_pk)
        form = ContactForm(request.POST)
        if form.is_valid():
            try:
                if contact is None:
                    contact = services.contact_create(partner=partner, **form.cleaned_data)
                    messages.success(request, f"{contact.name} was added as a contact.")
                else:
                    services.contact_update(contact=contact, **form.cleaned_data)
                    messages.success(request, f"{contact.name} was saved.")
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                return redirect(reverse("partners:detail", args=[partner.pk]) + "#contacts")
        context = {"form": form, "partner": partner, "contact": contact}
        return render(request, self.template_name, context, status=400)


class ContactDeleteView(RolePermissionRequiredMixin, View):
    read_perm = Perm.PARTNERS_CHANGE
    write_perm = Perm.PARTNERS_CHANGE

    def post(self, request: HttpRequest, pk: int, contact_pk: int) -> HttpResponse:
        partner = selectors.partner_get(pk=pk)
        contact = get_object_or_404(Contact.objects.filter(partner=partner), pk=contact_pk)
        services.contact_delete(contact=contact)
        messages.success(request, f"{contact.name} was removed from the contacts.")
        return redirect(reverse("partners:detail", args=[partner.pk]) + "#contacts")


class BankDetailsView(RolePermissionRequiredMixin, View):
    """Finance and admins set a partner's payout account; everyone else sees it masked."""

    read_perm = Perm.PARTNERS_BANK_DETAILS_CHANGE
    write_perm = Perm.PARTNERS_BANK_DETAILS_CHANGE
    template_name = "partners/registry/bank_form.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        partner = selectors.partner_get(pk=pk)
        current = selectors.partner_bank_details(partner=partner)
        # The current IBAN is not put back into the page: it is re-entered to change it.
        initial: dict[str, str] = {"currency": request.tenant.default_currency}  # type: ignore[attr-defined]
        if current is not None:
            initial = {
                "account_holder": current.account_holder,
                "swift_bic": current.swift_bic,
                "bank_name": current.bank_name,
                "currency": current.currency,
            }
        context = {"form": BankDetailsForm(initial=initial), "partner": partner, "current": current}
        return render(request, self.template_name, context)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        partner = selectors.partner_get(pk=pk)
        form = BankDetailsForm(request.POST)
        if form.is_valid():
            try:
                services.bank_details_set(
                    partner=partner, actor_role=request_role(request), **form.cleaned_data
                )
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, f"The bank details of {partner} were saved.")
                return redirect(reverse("partners:detail", args=[partner.pk]) + "#bank")
        current = selectors.partner_bank_details(partner=partner)
        context = {"form": form, "partner": partner, "current": current}
        return render(request, self.template_name, context, status=400)


class DocumentUploadView(RolePermissionRequiredMixin, View):
    read_perm = Perm.PARTNERS_VIEW
    write_perm = Perm.PARTNERS_CHANGE

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        partner = selectors.partner_get(pk=pk)
        form = DocumentUploadForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                document = services.partner_document_add(
                    partner=partner,
                    upload=data["file"],
                    doc_type=data["doc_type"],
                    uploaded_by=_user(request),
                    title=data["title"],
                    issued_on=data["issued_on"],
                    expires_on=data["expires_on"],
                )
            except ValidationError as exc:
                if hasattr(exc, "error_dict"):
                    _apply_errors(form, exc)
                else:
                    form.add_error("file", exc.messages)
            else:
                messages.success(request, f"{document} was uploaded.")
                return redirect(reverse("partners:detail", args=[partner.pk]) + "#documents")
        return _detail(request, partner, status=400, upload_form=form)


class DocumentDownloadView(RolePermissionRequiredMixin, View):
    """A stored document, as an attachment with its checked content type."""

    read_perm = Perm.PARTNERS_VIEW

    def get(self, request: HttpRequest, pk: int) -> FileResponse:
        document = selectors.document_get(pk=pk)
        response = FileResponse(
            open_document(document),
            as_attachment=True,
            filename=document.original_name,
            content_type=document.content_type,
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "sandbox"
        response["Cache-Control"] = "private, no-store"
        return response


class DocumentDeleteView(RolePermissionRequiredMixin, View):
    read_perm = Perm.PARTNERS_CHANGE
    write_perm = Perm.PARTNERS_CHANGE

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        document = selectors.document_get(pk=pk)
        services.document_delete(document=document)
        messages.success(request, f"{document} was deleted.")
        return redirect(reverse("partners:detail", args=[document.partner_id]) + "#documents")


class ChangeRequestDecisionView(RolePermissionRequiredMixin, View):
    """Approve or reject a partner's change; the service checks the role per kind of change."""

    read_perm = Perm.PARTNERS_VIEW
    write_perm = Perm.PARTNERS_VIEW
    approve = True

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        change_request = get_object_or_404(selectors.change_request_list(), pk=pk)
        form = DecisionForm(request.POST)
        comment = form.cleaned_data["comment"] if form.is_valid() else ""
        decide = services.change_request_approve if self.approve else services.change_request_reject
        try:
            decide(
                change_request=change_request,
                actor=_user(request),
                actor_role=request_role(request),
                comment=comment,
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            verdict = "approved" if self.approve else "rejected"
            messages.success(
                request, f"The {change_request.get_kind_display().lower()} change was {verdict}."
            )
        return redirect(reverse("partners:detail", args=[change_request.partner_id]) + "#changes")


class ProgrammeSettingsView(RolePermissionRequiredMixin, View):
    """Tenant admins: the partner types and tiers of the programme, and its settings (quiet
    threshold, reminder window, upload limit)."""

    read_perm = Perm.TENANT_MANAGE
    write_perm = Perm.TENANT_MANAGE
    template_name = "partners/registry/settings.html"

    def _render(self, request: HttpRequest, status: int = 200, **forms: Form) -> HttpResponse:
        current = selectors.program_settings_get()
        initial = {
            "quiet_after_days": current.quiet_after_days,
            "reminder_window_days": current.reminder_window_days,
            "max_upload_mb": current.max_upload_mb,
        }
        context = {
            "types": selectors.partner_type_list(),
            "tiers": selectors.partner_tier_list(),
            "type_form": forms.get("type_form") or PartnerTypeForm(),
            "tier_form": forms.get("tier_form") or PartnerTierForm(),
            "settings_form": forms.get("settings_form") or ProgramSettingsForm(initial=initial),
        }
        return render(request, self.template_name, context, status=status)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request)

    def post(self, request: HttpRequest) -> HttpResponse:
        action = request.POST.get("action", "")
        if action == "add_type":
            type_form = PartnerTypeForm(request.POST)
            if type_form.is_valid():
                try:
                    created = services.partner_type_create(name=type_form.cleaned_data["name"])
                except ValidationError as exc:
                    _apply_errors(type_form, exc)
                else:
                    messages.success(request, f"The partner type {created} was added.")
                    return redirect("partners:settings")
            return self._render(request, status=400, type_form=type_form)
        if action == "update_settings":
            settings_form = ProgramSettingsForm(request.POST)
            if settings_form.is_valid():
                try:
                    services.program_settings_update(**settings_form.cleaned_data)
                except ValidationError as exc:
                    _apply_errors(settings_form, exc)
                else:
                    messages.success(request, "The programme settings were saved.")
                    return redirect("partners:settings")
            return self._render(request, status=400, settings_form=settings_form)
        if action == "add_tier":
            tier_form = PartnerTierForm(request.POST)
            if tier_form.is_valid():
                try:
                    tier = services.partner_tier_create(
                        name=tier_form.cleaned_data["name"],
                        rank=tier_form.cleaned_data["rank"] or 0,
                    )
                except ValidationError as exc:
                    _apply_errors(tier_form, exc)
                else:
                    messages.success(request, f"The tier {tier} was added.")
                    return redirect("partners:settings")
            return self._render(request, status=400, tier_form=tier_form)
        try:
            if action == "delete_type":
                partner_type: PartnerType = get_object_or_404(
                    PartnerType.objects.all(), pk=request.POST.get("id")
                )
                services.partner_type_delete(partner_type=partner_type)
                messages.success(request, f"The partner type {partner_type} was deleted.")
            elif action == "delete_tier":
                doomed: PartnerTier = get_object_or_404(
                    PartnerTier.objects.all(), pk=request.POST.get("id")
                )
                services.partner_tier_delete(tier=doomed)
                messages.success(request, f"The tier {doomed} was deleted.")
            else:
                messages.error(request, "Unknown action.")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return redirect("partners:settings")


urlpatterns: list[URLPattern | URLResolver] = [
    path("", PartnerListView.as_view(), name="list"),
    path("new/", PartnerCreateView.as_view(), name="create"),
    path("export/", PartnerExportView.as_view(), name="export"),
    path("settings/", ProgrammeSettingsView.as_view(), name="settings"),
    path("<int:pk>/", PartnerDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", PartnerEditView.as_view(), name="edit"),
    path("<int:pk>/contacts/", PartnerListPanelView.as_view(listing=CONTACTS), name="contacts"),
    path(
        "<int:pk>/contacts/export/",
        PartnerListExportView.as_view(listing=CONTACTS),
        name="contacts-export",
    ),
    path("<int:pk>/contacts/add/", ContactFormView.as_view(), name="contact-add"),
    path(
        "<int:pk>/contacts/<int:contact_pk>/edit/", ContactFormView.as_view(), name="contact-edit"
    ),
    path(
        "<int:pk>/contacts/<int:contact_pk>/delete/",
        ContactDeleteView.as_view(),
        name="contact-delete",
    ),
    path("<int:pk>/bank-details/", BankDetailsView.as_view(), name="bank-details"),
    path("<int:pk>/documents/", PartnerListPanelView.as_view(listing=DOCUMENTS), name="documents"),
    path(
        "<int:pk>/documents/export/",
        PartnerListExportView.as_view(listing=DOCUMENTS),
        name="documents-export",
    ),
    path("<int:pk>/documents/upload/", DocumentUploadView.as_view(), name="document-upload"),
    path("documents/<int:pk>/download/", DocumentDownloadView.as_view(), name="document-download"),
    path("documents/<int:pk>/delete/", DocumentDeleteView.as_view(), name="document-delete"),
    path(
        "change-requests/<int:pk>/approve/",
        ChangeRequestDecisionView.as_view(approve=True),
        name="change-request-approve",
    ),
    path(
        "change-requests/<int:pk>/reject/",
        ChangeRequestDecisionView.as_view(approve=False),
        name="change-request-reject",
    ),
]
