"""Quality of the drift detector on synthetic series with known change points.

Every scenario is generated for many random seeds; the detector runs as the nightly job would,
once per day over the evaluation days, on all series of the scenario at once. A series counts
as a true positive when its first alarm falls in [change, change + max delay], as a false
positive when its first alarm comes before the change (or at all, without a planted change),
and as a miss otherwise. Precision, recall and mean delay are asserted against the thresholds
documented in docs/kpi-drift.md. Print the table with `python -m tests.kpis.test_drift_quality`.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import pytest

from kpis.drift import (
    BASELINE_DAYS,
    METHOD_CUSUM,
    METHOD_EWMA,
    MONITOR_DAYS,
    REFERENCE_K,
    detect_shift,
)

WINDOW = BASELINE_DAYS + MONITOR_DAYS
LENGTH = 150
CHANGE = 115  # the first changed day; the history before it is 115 days
EVAL_FROM = CHANGE - 21  # three weeks of "before" days on which any alarm is false
SEEDS = 150
MAX_DELAY = 21

# Thresholds asserted here and documented in docs/kpi-drift.md.
MIN_PRECISION = 0.95
MIN_RECALL = 0.85
MAX_MEAN_DELAY = 9.0
MAX_FALSE_ALARM_RATE = 0.03  # share of no-change series with any alarm over 56 days


@dataclass(frozen=True)
class Scenario:
    name: str
    changed: bool
    level: float = 100.0
    noise: float = 10.0
    step: float = 0.0  # in noise sigmas, after CHANGE
    ramp_days: int = 0  # the step is reached linearly over this many days
    weekly: float = 0.0  # weekday amplitude relative to level (weekend dip)
    missing: float = 0.0  # share of missing days
    poisson: bool = False
    min_recall: float = 0.9  # share of its series found within MAX_DELAY


SCENARIOS = [
    Scenario("noise only", changed=False),
    Scenario("noise only, heavy tails", changed=False),
    Scenario("weekly seasonal", changed=False, weekly=0.3),
    Scenario("missing days (25%)", changed=False, missing=0.25),
    Scenario("low counts (Poisson 4)", changed=False, level=4.0, poisson=True),
    Scenario("step up 2 sigma", changed=True, step=2.0),
    Scenario("step down 2 sigma", changed=True, step=-2.0),
    Scenario("step up 1 sigma", changed=True, step=1.0, min_recall=0.3),
    Scenario("step up 3 sigma, weekly seasonal", changed=True, step=3.0, weekly=0.3),
    Scenario("step down 2 sigma, 25% missing", changed=True, step=-2.0, missing=0.25),
    Scenario("slow ramp to 3 sigma over 21 days", changed=True, step=3.0, ramp_days=21),
    Scenario("counts doubling (Poisson 4 to 8)", changed=True, level=4.0, step=2.0, poisson=True),
]


def generate(scenario: Scenario, seeds: int = SEEDS, base_seed: int = 0) -> np.ndarray:
    """``seeds`` series (rows) of LENGTH days for one scenario; NaN marks a missing day."""
    rng = np.random.default_rng([base_seed, zlib.crc32(scenario.name.encode())])
    days = np.arange(LENGTH)
    weekday = days % 7  # day 0 is a Monday
    season = np.where(weekday >= 5, -scenario.weekly, scenario.weekly * 2 / 5)
    shift = np.zeros(LENGTH)
    after = days >= CHANGE
    if scenario.ramp_days:
        shift[after] = np.minimum((days[after] - CHANGE + 1) / scenario.ramp_days, 1.0)
    else:
        shift[after] = 1.0
    if scenario.poisson:
        mean = scenario.level * (1 + season) * (1 + shift * scenario.step / 2)
        values = rng.poisson(np.broadcast_to(mean, (seeds, LENGTH))).astype(float)
    else:
        level = scenario.level * (1 + season) + shift * scenario.step * scenario.noise
        if "heavy tails" in scenario.name:
            noise = rng.standard_t(3, size=(seeds, LENGTH)) * scenario.noise / np.sqrt(3)
        else:
            noise = rng.normal(0, scenario.noise, size=(seeds, LENGTH))
        values = level + noise
    if scenario.missing:
        values[rng.random((seeds, LENGTH)) < scenario.missing] = np.nan
    return values


def first_alarms(values: np.ndarray, method: int = METHOD_CUSUM, h: float = 5.0) -> np.ndarray:
    """The first day each series alarms, running the detector once per evaluation day."""
    n = values.shape[0]
    first = np.full(n, -1)
    for day in range(EVAL_FROM, LENGTH):
        window = values[:, day - WINDOW + 1 : day + 1]
        result = detect_shift(
            window,
            first_weekday=(day - WINDOW + 1) % 7,
            threshold=np.full(n, h),
            method=np.full(n, method),
            min_history=np.full(n, 28),
        )
        first = np.where((first < 0) & result.alarm, day, first)
    return first


@dataclass
class Figures:
    name: str
    series: int
    true_positive: int
    false_positive: int
    missed: int
    delays: list[int]

    @property
    def mean_delay(self) -> float:
        return float(np.mean(self.delays)) if self.delays else float("nan")


def evaluate(
    scenario: Scenario, method: int = METHOD_CUSUM, seeds: int = SEEDS, base_seed: int = 0
) -> Figures:
    first = first_alarms(generate(scenario, seeds, base_seed), method)
    false_positive = int(np.sum((first >= 0) & ((first < CHANGE) | (not scenario.changed))))
    if scenario.changed:
        hit = (first >= CHANGE) & (first <= CHANGE + MAX_DELAY)
        delays = (first[hit] - CHANGE).tolist()
        missed = int(seeds - false_positive - hit.sum())
    else:
        hit, delays, missed = np.zeros(seeds, bool), [], 0
    return Figures(scenario.name, seeds, int(hit.sum()), false_positive, missed, delays)


def totals(figures: list[Figures]) -> dict[str, float]:
    tp = sum(f.true_positive for f in figures)
    fp = sum(f.false_positive for f in figures)
    changed = sum(f.series for f, s in zip(figures, SCENARIOS, strict=True) if s.changed)
    quiet = sum(f.series for f, s in zip(figures, SCENARIOS, strict=True) if not s.changed)
    quiet_fp = sum(
        f.false_positive for f, s in zip(figures, SCENARIOS, strict=True) if not s.changed
    )
    delays = [d for f in figures for d in f.delays]
    return {
        "precision": tp / max(tp + fp, 1),
        "recall": tp / max(changed, 1),
        "mean_delay": float(np.mean(delays)),
        "false_alarm_rate": quiet_fp / max(quiet, 1),
    }


@pytest.fixture(scope="module")
def cusum_figures() -> list[Figures]:
    return [evaluate(scenario) for scenario in SCENARIOS]


def test_cusum_meets_the_documented_quality(cusum_figures: list[Figures]) -> None:
    figures = totals(cusum_figures)
    assert figures["precision"] >= MIN_PRECISION, figures
    assert figures["recall"] >= MIN_RECALL, figures
    assert figures["mean_delay"] <= MAX_MEAN_DELAY, figures
    assert figures["false_alarm_rate"] <= MAX_FALSE_ALARM_RATE, figures


@pytest.mark.parametrize("name", [s.name for s in SCENARIOS if not s.changed])
def test_no_change_series_rarely_alarm(cusum_figures: list[Figures], name: str) -> None:
    row = next(f for f in cusum_figures if f.name == name)
    assert row.false_positive / row.series <= 0.05, row


@pytest.mark.parametrize("name", [s.name for s in SCENARIOS if s.changed])
def test_planted_changes_are_found_within_the_delay_bound(
    cusum_figures: list[Figures], name: str
) -> None:
    row = next(f for f in cusum_figures if f.name == name)
    scenario = next(s for s in SCENARIOS if s.name == name)
    assert row.true_positive / row.series >= scenario.min_recall, row
    assert max(row.delays) <= MAX_DELAY


def test_ewma_finds_a_two_sigma_step_and_stays_quiet_on_noise() -> None:
    step = evaluate(SCENARIOS[5], METHOD_EWMA, seeds=60)
    noise = evaluate(SCENARIOS[0], METHOD_EWMA, seeds=60)
    assert step.true_positive / step.series >= 0.9
    assert noise.false_positive / noise.series <= 0.05


def test_direction_and_change_start_of_a_step() -> None:
    values = generate(SCENARIOS[6], seeds=40)[:, : CHANGE + 10]
    day = CHANGE + 9
    window = values[:, day - WINDOW + 1 : day + 1]
    result = detect_shift(
        window,
        first_weekday=(day - WINDOW + 1) % 7,
        threshold=np.full(40, 5.0),
        method=np.full(40, METHOD_CUSUM),
        min_history=np.full(40, 28),
    )
    assert result.alarm.mean() >= 0.9
    assert set(result.direction[result.alarm]) == {-1}
    start = result.change_start[result.alarm] + (day - WINDOW + 1)
    assert np.median(np.abs(start - CHANGE)) <= 2
    assert np.all(result.recent_level[result.alarm] < result.baseline_level[result.alarm])


def test_short_history_never_alarms() -> None:
    values = generate(SCENARIOS[5], seeds=20)
    window = values[:, CHANGE + 10 - WINDOW + 1 : CHANGE + 11].copy()
    window[:, : BASELINE_DAYS - 20] = np.nan  # only 20 days of history
    result = detect_shift(
        window,
        first_weekday=0,
        threshold=np.full(20, 5.0),
        method=np.full(20, METHOD_CUSUM),
        min_history=np.full(20, 28),
    )
    assert not result.alarm.any()


def main() -> None:  # pragma: no cover - prints the table of docs/kpi-drift.md
    rows = [evaluate(s) for s in SCENARIOS]
    print(
        f"| scenario | series | detected in {MAX_DELAY} d | false alarms | missed "
        "| mean delay (d) |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        delay = f"{row.mean_delay:.1f}" if row.delays else "-"
        print(
            f"| {row.name} | {row.series} | {row.true_positive} | {row.false_positive} | "
            f"{row.missed} | {delay} |"
        )
    figures = totals(rows)
    print()
    print(
        f"CUSUM (h=5, k={REFERENCE_K}): precision {figures['precision']:.3f}, "
        f"recall {figures['recall']:.3f}, "
        f"mean delay {figures['mean_delay']:.1f} days, "
        f"false-alarm rate on no-change series {figures['false_alarm_rate']:.3f}"
    )
    ewma = [evaluate(s, METHOD_EWMA) for s in SCENARIOS]
    e = totals(ewma)
    print(
        f"EWMA (h=5, lambda=0.2): precision {e['precision']:.3f}, recall {e['recall']:.3f}, "
        f"mean delay {e['mean_delay']:.1f} days, false-alarm rate {e['false_alarm_rate']:.3f}"
    )


if __name__ == "__main__":  # pragma: no cover
    main()
