"""Two beat schedulers running at once: each nightly fan-out fires once per slot, so no run,
statement, drift alert or reminder is made twice. The jobs behind them are idempotent too. The
same fan-out message delivered again (its worker died half-way) still publishes every job."""

from __future__ import annotations

import threading

import pytest

from kpis import drift_tasks
from partnerhub.core.beat import beat_slot_claim
from partners import tasks as partner_tasks
from settlements import run_tasks
from tests.conftest import Personas

pytestmark = pytest.mark.django_db


def test_concurrent_claims_of_one_slot_have_exactly_one_winner() -> None:
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def claim() -> None:
        barrier.wait()
        results.append(beat_slot_claim("nightly", "2026-11-23"))

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 7 + [True]
    assert beat_slot_claim("nightly", "2026-11-24")  # the next night is a new slot


FAN_OUTS = pytest.mark.parametrize(
    ("fan_out", "per_tenant"),
    [
        (run_tasks.settlement_runs_nightly, run_tasks.settlement_run_nightly_tenant),
        (drift_tasks.kpi_drift_detect, drift_tasks.kpi_drift_detect_tenant),
        (partner_tasks.partners_daily_reminders, partner_tasks.partners_reminders_for_tenant),
    ],
    ids=["settlement-runs", "kpi-drift", "reminders"],
)


@FAN_OUTS
def test_a_second_beat_firing_the_same_entry_publishes_nothing(
    personas: Personas, monkeypatch, fan_out, per_tenant
) -> None:
    published: list[tuple] = []
    monkeypatch.setattr(per_tenant, "delay", lambda *args: published.append(args))
    first = fan_out()  # as beat calls it: no arguments
    assert first >= 2 and len(published) == first  # one task per active tenant
    assert fan_out() == 0  # the second scheduler's firing
    assert len(published) == first


@FAN_OUTS
def test_a_fan_out_delivered_again_after_its_worker_died_finishes(
    personas: Personas, monkeypatch, fan_out, per_tenant
) -> None:
    """A worker killed half-way through the fan-out: the broker delivers the same message (same
    task id) again, and it must publish every tenant's job, not find its own slot taken."""
    published: list[tuple] = []
    monkeypatch.setattr(per_tenant, "delay", lambda *args: published.append(args))
    first = fan_out.apply(task_id="nightly-message").get()
    again = fan_out.apply(task_id="nightly-message").get()
    assert again == first >= 2 and len(published) == 2 * first  # the jobs are idempotent
    assert fan_out.apply(task_id="another-scheduler").get() == 0
    assert len(published) == 2 * first
