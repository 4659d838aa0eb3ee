"""KPI Celery tasks (the drift job lives in kpis/drift_tasks.py). Thin: ids in, services do."""

from __future__ import annotations

from celery import shared_task
from django.core.exceptions import ValidationError

from kpis.services.measurements import (
    MeasurementRowsInvalid,
    measurement_import_fail,
    measurement_import_run,
    measurement_import_start,
)
from partnerhub.tenancy.context import tenant_context
from partnerhub.tenancy.models import Tenant


@shared_task(acks_late=True)
def kpi_measurements_import(import_id: int, tenant_id: int) -> str:
    """Write a committed CSV upload. Idempotent: only a queued upload is started."""
    tenant = Tenant.objects.get(pk=tenant_id)
    with tenant_context(tenant):
        if measurement_import_start(import_id=import_id) is None:
            return "skipped"
    try:
        with tenant_context(tenant):
            measurement_import_run(import_id=import_id)
    except MeasurementRowsInvalid as exc:
        with tenant_context(tenant):
            measurement_import_fail(import_id=import_id, errors=exc.rows)
        return "failed"
    except ValidationError as exc:
        with tenant_context(tenant):
            measurement_import_fail(
                import_id=import_id,
                errors=[{"row": None, "column": "", "message": m} for m in exc.messages],
            )
        return "failed"
    except Exception:
        with tenant_context(tenant):
            measurement_import_fail(
                import_id=import_id,
                errors=[{"row": None, "column": "", "message": "The import failed unexpectedly."}],
            )
        raise
    return "done"
