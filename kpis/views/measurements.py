"""Pages: measurements CSV upload -> preview with per-row errors -> queued commit -> progress."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views import View

from kpis.forms import MeasurementUploadForm
from kpis.models import MeasurementImport
from kpis.services.measurements import (
    PREVIEW_ROWS,
    measurement_import_commit,
    measurement_import_preview,
    measurement_import_progress,
    measurement_import_rows,
)
from partnerhub.accounts.permissions import RolePermissionRequiredMixin
from partnerhub.accounts.roles import Perm


class UploadView(RolePermissionRequiredMixin, View):
    read_perm = Perm.KPIS_CHANGE
    write_perm = Perm.KPIS_CHANGE
    template_name = "kpis/measurements/upload.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        recent = MeasurementImport.objects.select_related("created_by")[:10]
        return render(
            request, self.template_name, {"form": MeasurementUploadForm(), "recent": recent}
        )

    def post(self, request: HttpRequest) -> HttpResponseBase:
        form = MeasurementUploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                upload = measurement_import_preview(
                    upload=form.cleaned_data["file"],
                    user=request.user,  # type: ignore[arg-type]
                )
            except ValidationError as exc:
                for message in exc.messages:
                    form.add_error("file", message)
            else:
                return redirect("kpis:import", pk=upload.pk)
        recent = MeasurementImport.objects.select_related("created_by")[:10]
        return render(request, self.template_name, {"form": form, "recent": recent}, status=400)


def _preview(upload: MeasurementImport) -> list[dict[str, Any]]:
    """The first rows of the file, each with its errors."""
    try:
        rows = measurement_import_rows(upload)[:PREVIEW_ROWS]
    except (ValidationError, OSError, UnicodeDecodeError):
        return []
    by_row: dict[int, list[dict[str, Any]]] = {}
    for error in upload.errors:
        if error.get("row"):
            by_row.setdefault(error["row"], []).append(error)
    return [
        {"number": n, "cells": row, "errors": by_row.get(n, [])}
        for n, row in enumerate(rows, start=1)
    ]


class ImportDetailView(RolePermissionRequiredMixin, View):
    """Preview (first 100 rows, every error, counts) and commit; then the progress bar."""

    read_perm = Perm.KPIS_CHANGE
    write_perm = Perm.KPIS_CHANGE
    template_name = "kpis/measurements/import.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        upload = get_object_or_404(MeasurementImport, pk=pk)
        bad_rows = len({e.get("row") for e in upload.errors})
        context = {
            "upload": upload,
            "preview": _preview(upload),
            "preview_limit": PREVIEW_ROWS,
            "bad_rows": bad_rows,
            "done": measurement_import_progress(upload),
        }
        return render(request, self.template_name, context)

    def post(self, request: HttpRequest, pk: int) -> HttpResponseBase:
        upload = get_object_or_404(MeasurementImport, pk=pk)
        try:
            measurement_import_commit(measurement_import=upload)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "Import queued: the values are written in the background.")
        return redirect("kpis:import", pk=upload.pk)


class ImportProgressView(RolePermissionRequiredMixin, View):
    """The progress bar fragment that htmx polls while the task runs."""

    read_perm = Perm.KPIS_CHANGE

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        upload = get_object_or_404(MeasurementImport, pk=pk)
        context = {"upload": upload, "done": measurement_import_progress(upload)}
        return render(request, "kpis/measurements/_progress.html", context)


urlpatterns = [
    path("measurements/upload/", UploadView.as_view(), name="upload"),
    path("measurements/imports/<int:pk>/", ImportDetailView.as_view(), name="import"),
    path(
        "measurements/imports/<int:pk>/progress/",
        ImportProgressView.as_view(),
        name="import-progress",
    ),
]
