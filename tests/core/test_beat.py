"""Every scheduled job names a task the worker really has."""

from __future__ import annotations

import pytest
from django.conf import settings

from partnerhub.celery import app


@pytest.mark.parametrize("entry", sorted(settings.CELERY_BEAT_SCHEDULE))
def test_every_beat_entry_names_a_registered_task(entry: str) -> None:
    app.loader.import_default_modules()
    task = settings.CELERY_BEAT_SCHEDULE[entry]["task"]
    assert task in app.tasks, f"beat entry {entry!r} names {task!r}, which no module registers"


def test_the_nightly_jobs_are_scheduled() -> None:
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {
        "kpis.drift_tasks.kpi_drift_detect",
        "settlements.run_tasks.settlement_runs_nightly",
        "partners.tasks.partners_daily_reminders",
    } <= tasks
