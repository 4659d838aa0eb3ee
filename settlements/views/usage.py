"""Pages: usage imports (upload with preview, progress, rejected rows), products, FX rates."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, URLResolver, path, reverse
from django.views import View
from django.views.generic import ListView, TemplateView

from partnerhub.accounts.permissions import RolePermissionRequiredMixin, request_role
from partnerhub.accounts.roles import Perm, role_has_perm
from settlements.forms import FxUploadForm, ProductForm, UsageUploadForm
from settlements.models import UsageImport
from settlements.selectors import usage as selectors
from settlements.services import fx as fx_services
from settlements.services import products as product_services
from settlements.services import usage_import as import_services


def _can_change(request: HttpRequest) -> bool:
    return role_has_perm(request_role(request), Perm.SETTLEMENTS_CHANGE)


class UsageImportListView(RolePermissionRequiredMixin, ListView):
    """Usage imports, newest first, with their counts."""

    template_name = "settlements/usage/import_list.html"
    read_perm = Perm.SETTLEMENTS_VIEW
    paginate_by = 50

    def get_queryset(self) -> Any:
        return selectors.usage_import_list()

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            **kwargs, area="settlements", can_change=_can_change(self.request)
        )


class UsageUploadView(RolePermissionRequiredMixin, View):
    """Upload a CSV: "Preview" (dry run, htmx fragment) or "Import" (queued, then progress)."""

    read_perm = Perm.SETTLEMENTS_VIEW
    write_perm = Perm.SETTLEMENTS_CHANGE
    template_name = "settlements/usage/upload.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(
            request, self.template_name, {"form": UsageUploadForm(), "area": "settlements"}
        )

    def post(self, request: HttpRequest) -> HttpResponse:
        form = UsageUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return render(request, self.template_name, {"form": form, "area": "settlements"})
        upload = form.cleaned_data["file"]
        if "preview" in request.POST:
            context: dict[str, Any] = {}
            try:
                context["preview"] = import_services.usage_csv_preview(
                    stream=import_services.open_upload(upload)
                )
            except import_services.UsageImportError as exc:
                context["file_error"] = exc.message
            return render(request, "settlements/usage/_preview.html", context)
        usage_import = import_services.usage_import_create(
            file=upload, policy=form.cleaned_data["policy"], created_by=request.user
        )
        messages.success(request, "File uploaded: the import runs in the background.")
        return HttpResponseRedirect(
            reverse("settlements:usage-import-detail", args=[usage_import.pk])
        )


class UsageImportDetailView(RolePermissionRequiredMixin, TemplateView):
    """An import's progress (polled with htmx while it runs) and its rejected rows."""

    read_perm = Perm.SETTLEMENTS_VIEW

    def get_template_names(self) -> list[str]:
        if self.request.headers.get("HX-Request"):
            return ["settlements/usage/_progress.html"]
        return ["settlements/usage/import_detail.html"]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        usage_import = selectors.usage_import_list().filter(pk=kwargs["pk"]).first()
        if usage_import is None:
            raise Http404("No such import.")
        running = usage_import.status in {UsageImport.Status.QUEUED, UsageImport.Status.RUNNING}
        percent = (
            round(100 * usage_import.rows_processed / usage_import.rows_total)
            if usage_import.rows_total
            else (0 if running else 100)
        )
        context.update(
            usage_import=usage_import,
            running=running,
            percent=percent,
            rejected_rows=selectors.usage_rejected_row_list(usage_import=usage_import)[:500],
            area="settlements",
        )
        return context


class ProductListView(RolePermissionRequiredMixin, View):
    """Products whose usage is settled; finance adds new ones here."""

    read_perm = Perm.SETTLEMENTS_VIEW
    write_perm = Perm.SETTLEMENTS_CHANGE
    template_name = "settlements/usage/products.html"

    def _render(self, request: HttpRequest, form: ProductForm) -> HttpResponse:
        return render(
            request,
            self.template_name,
            {
                "products": selectors.product_list(),
                "form": form,
                "can_change": _can_change(request),
                "area": "settlements",
            },
        )

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request, ProductForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = ProductForm(request.POST)
        if form.is_valid():
            try:
                product_services.product_create(**form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, "Product added.")
                return HttpResponseRedirect(reverse("settlements:product-list"))
        return self._render(request, form)


class FxRateListView(RolePermissionRequiredMixin, View):
    """The tenant's FX rates (latest 200) and a CSV upload."""

    read_perm = Perm.SETTLEMENTS_VIEW
    write_perm = Perm.SETTLEMENTS_CHANGE
    template_name = "settlements/usage/fx_rates.html"

    def _render(self, request: HttpRequest, form: FxUploadForm, errors: Any = None) -> HttpResponse:
        return render(
            request,
            self.template_name,
            {
                "rates": selectors.fx_rate_list()[:200],
                "form": form,
                "errors": errors,
                "can_change": _can_change(request),
                "area": "settlements",
            },
        )

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request, FxUploadForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = FxUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return self._render(request, form)
        try:
            saved = fx_services.fx_rates_import_csv(stream=form.cleaned_data["file"].file)
        except ValidationError as exc:
            return self._render(request, form, errors=exc.messages)
        messages.success(request, f"{saved} rate(s) saved.")
        return HttpResponseRedirect(reverse("settlements:fx-rate-list"))


urlpatterns: list[URLPattern | URLResolver] = [
    path("usage/imports/", UsageImportListView.as_view(), name="usage-import-list"),
    path("usage/imports/new/", UsageUploadView.as_view(), name="usage-upload"),
    path("usage/imports/<int:pk>/", UsageImportDetailView.as_view(), name="usage-import-detail"),
    path("products/", ProductListView.as_view(), name="product-list"),
    path("fx-rates/", FxRateListView.as_view(), name="fx-rate-list"),
]
