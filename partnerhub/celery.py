"""The Celery app. Tasks take a tenant id and activate it themselves (tenant_context)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partnerhub.settings")

app = Celery("partnerhub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["partnerhub.core", "partnerhub.accounts"])
app.autodiscover_tasks(["kpis"], related_name="drift_tasks")
app.autodiscover_tasks(["settlements"], related_name="run_tasks")
