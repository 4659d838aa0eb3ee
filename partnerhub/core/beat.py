"""One firing per schedule slot, however many beat schedulers run.

Celery beat must run once per deployment, but a second scheduler started by mistake (or during
a rolling deploy) fires every entry again. The nightly fan-out tasks therefore claim their slot
(the task's name and the day it works for) with an atomic ``cache.add`` in Redis: the first
claim wins and the duplicate does nothing. The jobs behind them are idempotent as well (a month's
run replaces its drafts, drift alerts are unique per KPI and day, reminders are sent once), so a
slot lost with a Redis restart costs only repeated work, never duplicated results.

A claim names its owner, the fan-out's message (task id): when a worker is killed half-way
through a fan-out, the broker delivers the same message again, and that delivery must finish
the fan-out (the per-tenant jobs it publishes again are idempotent) rather than find the slot
taken and leave the remaining tenants without their nightly job.
"""

from __future__ import annotations

from django.core.cache import cache
from django.utils import timezone

SLOT_TTL = 60 * 60 * 36  # longer than a day: a slot is claimed once per night


def beat_slot_claim(task_name: str, slot: str, *, owner: str | None = None) -> bool:
    """``True`` for the first claim of ``slot`` of ``task_name`` and for a later claim by the same
    ``owner`` (the same message delivered again); ``False`` for any other later claim."""
    key = f"beat-slot:{task_name}:{slot}"
    if cache.add(key, owner or timezone.now().isoformat(), SLOT_TTL):
        return True
    return owner is not None and cache.get(key) == owner
