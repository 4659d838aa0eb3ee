"""The KPI-drift detector: pure, vectorised numpy over many daily series at once (no Django).

Input is a 2D array ``values`` (series x days, NaN for a missing day) whose last column is the
detection date. Each series is standardised against its own robust baseline (median and MAD of
the ``baseline_days`` before the monitoring window, after removing a day-of-week profile when the
baseline shows one) and a two-sided CUSUM (or EWMA) runs over the ``monitor_days`` of the
monitoring window. The loop runs over days; each step is one array operation across all series.
See docs/kpi-drift.md for the method, parameters and measured quality.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

BASELINE_DAYS = 56  # eight weeks: eight values per weekday for the seasonal profile
MONITOR_DAYS = 28  # the CUSUM restarts at the start of this window
REFERENCE_K = 1.0  # CUSUM allowance in sigmas: tuned for shifts of about 2 sigma (see the docs)
EWMA_LAMBDA = 0.2
MIN_RECENT_OBSERVATIONS = 3  # in the last 7 days: a series that stopped reporting does not alarm
MAD_TO_SIGMA = 1.4826
SIGMA_FLOOR_RELATIVE = 0.01  # a flat baseline still gets a sigma of 1% of its level
SEASONAL_F = 4.0  # the weekday profile must carry 4x the power that pure noise would give it
CLIP_SIGMAS = 3.0
Z_CLIP = 3.0
CLIPPED_STD_FACTOR = 0.9866  # std of a standard normal clipped at +/-3

METHOD_CUSUM = 0
METHOD_EWMA = 1


@dataclass(frozen=True)
class ShiftResult:
    """Per series: whether it alarms on the last day, and what the shift looks like."""

    alarm: BoolArray  # (S,)
    direction: IntArray  # +1 up, -1 down, 0 none
    change_start: IntArray  # column index where the shift began (-1 without alarm)
    statistic: FloatArray  # the CUSUM/EWMA statistic (in its decision units) on the last day
    baseline_level: FloatArray  # median of the baseline window (original units)
    baseline_sigma: FloatArray  # robust sigma of the baseline (original units)
    recent_level: FloatArray  # mean of the observed values since the change start
    history_days: IntArray  # observed days before the monitoring window
    seasonal: BoolArray  # whether a weekday profile was removed


def _quiet_nan_reduce(func: Callable[..., Any], array: FloatArray, axis: int) -> FloatArray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)
        return np.asarray(func(array, axis=axis), dtype=np.float64)


def robust_baseline(
    baseline: FloatArray, weekday: IntArray
) -> tuple[FloatArray, FloatArray, FloatArray, BoolArray]:
    """Median level, robust sigma and weekday profile (S x 7) of each baseline row.

    The profile is the median deviation of each weekday from the series median; it is kept only
    where it is far stronger than noise would make it, so a non-seasonal series is not over-fitted.
    """
    level = _quiet_nan_reduce(np.nanmedian, baseline, axis=1)
    deviation = baseline - level[:, None]
    profile = np.zeros((baseline.shape[0], 7))
    for day in range(7):  # seven array operations, not a loop over series
        columns = weekday == day
        if columns.any():
            profile[:, day] = _quiet_nan_reduce(np.nanmedian, deviation[:, columns], axis=1)
    profile = np.nan_to_num(profile)
    profile -= profile.mean(axis=1, keepdims=True)

    plain = MAD_TO_SIGMA * _quiet_nan_reduce(np.nanmedian, np.abs(deviation), axis=1)
    # A weekday median of n values varies by about (1.2533 sigma)^2 / n around the truth even
    # without any weekly pattern; keep the profile only when it is far beyond that.
    per_day = max(baseline.shape[1] / 7, 1.0)
    noise_power = SEASONAL_F * 1.5708 / per_day * plain**2
    seasonal = np.mean(profile**2, axis=1) > noise_power
    profile[~seasonal] = 0.0
    residual = deviation - profile[:, weekday]
    centre = _quiet_nan_reduce(np.nanmedian, residual, axis=1)
    residual -= centre[:, None]
    robust = MAD_TO_SIGMA * _quiet_nan_reduce(np.nanmedian, np.abs(residual), axis=1)
    # The MAD alone is a noisy estimate (about 16% error on 56 days); the standard deviation of
    # the residuals clipped at 3 robust sigmas is as robust to outliers and twice as efficient.
    bound = CLIP_SIGMAS * robust[:, None]
    clipped = np.clip(residual, -bound, bound)
    spread = _quiet_nan_reduce(np.nanstd, clipped, axis=1) / CLIPPED_STD_FACTOR
    centre = centre + _quiet_nan_reduce(np.nanmean, clipped, axis=1)  # winsorised mean level
    # Fitting the profile leaves its own estimation error in every standardised value.
    spread = np.where(seasonal, spread * np.sqrt(1 + 1.5708 / per_day), spread)
    level = level + centre
    sigma = np.maximum(np.nan_to_num(spread), SIGMA_FLOOR_RELATIVE * np.abs(level))
    sigma = np.where(sigma > 0, sigma, 1e-9)
    return level, sigma, profile, seasonal


def detect_shift(
    values: FloatArray,
    *,
    first_weekday: int,
    threshold: FloatArray,
    method: IntArray,
    min_history: IntArray,
    baseline_days: int = BASELINE_DAYS,
    monitor_days: int = MONITOR_DAYS,
    k: float = REFERENCE_K,
    ewma_lambda: float = EWMA_LAMBDA,
) -> ShiftResult:
    """Run the level-shift detector on every row of ``values`` for its last column.

    ``first_weekday`` is the weekday (Monday 0) of column 0; ``threshold`` (h, in sigmas),
    ``method`` (METHOD_CUSUM/METHOD_EWMA) and ``min_history`` (observed days needed before the
    monitoring window) are per series.
    """
    values = np.asarray(values, dtype=np.float64)
    n_series, n_days = values.shape
    if n_days < monitor_days + 7:
        raise ValueError("values must span at least the monitoring window plus a week")
    weekday = (first_weekday + np.arange(n_days)) % 7
    start = n_days - monitor_days
    history = values[:, :start]
    baseline = history[:, -baseline_days:]
    base_weekday = weekday[start - baseline.shape[1] : start]
    level, sigma, profile, seasonal = robust_baseline(baseline, base_weekday)

    monitor = values[:, start:]
    expected = level[:, None] + profile[:, weekday[start:]]
    z = (monitor - expected) / sigma[:, None]

    upper = np.zeros(n_series)
    lower = np.zeros(n_series)
    upper_start = np.full(n_series, -1, dtype=np.int64)  # last day the statistic was at rest
    lower_start = np.full(n_series, -1, dtype=np.int64)
    cusum = method == METHOD_CUSUM
    ewma_limit = np.sqrt(ewma_lambda / (2 - ewma_lambda))
    for day in range(monitor_days):
        zt = z[:, day]
        seen = ~np.isnan(zt)
        # Clipping bounds what one outlier adds, so a single odd day never alarms alone.
        zt = np.clip(np.where(seen, zt, 0.0), -Z_CLIP, Z_CLIP)
        # CUSUM: accumulate deviations beyond k; EWMA: smooth z (upper/lower hold +/- parts).
        new_upper = np.where(
            cusum,
            np.maximum(0.0, upper + zt - k),
            ewma_lambda * zt + (1 - ewma_lambda) * upper,
        )
        new_lower = np.where(
            cusum,
            np.maximum(0.0, lower - zt - k),
            ewma_lambda * -zt + (1 - ewma_lambda) * lower,
        )
        upper = np.where(seen, new_upper, upper)  # a gap carries the statistic unchanged
        lower = np.where(seen, new_lower, lower)
        upper_start = np.where(seen & (upper <= 0), day, upper_start)
        lower_start = np.where(seen & (lower <= 0), day, lower_start)

    scale = np.where(cusum, 1.0, ewma_limit)
    up_stat = upper / scale
    down_stat = lower / scale
    history_days = np.sum(~np.isnan(history), axis=1).astype(np.int64)
    recent_seen = np.sum(~np.isnan(values[:, -7:]), axis=1)
    eligible = (
        (history_days >= min_history)
        & (np.sum(~np.isnan(baseline), axis=1) >= 14)
        & (recent_seen >= MIN_RECENT_OBSERVATIONS)
    )
    up = eligible & (up_stat > threshold) & (up_stat >= down_stat)
    down = eligible & (down_stat > threshold) & ~up
    alarm = up | down
    direction = np.where(up, 1, np.where(down, -1, 0)).astype(np.int64)
    began = np.where(up, upper_start + 1, np.where(down, lower_start + 1, 0))
    began = np.clip(began, 0, monitor_days - 1)
    # The mean of what was observed from the change start on (a masked mean, no loop).
    since = np.arange(monitor_days)[None, :] >= began[:, None]
    observed = since & ~np.isnan(monitor)
    count = observed.sum(axis=1)
    recent = np.where(
        count > 0, np.where(observed, monitor, 0.0).sum(axis=1) / np.maximum(count, 1), np.nan
    )
    change_start = np.where(alarm, start + began, -1).astype(np.int64)
    statistic = np.where(direction >= 0, up_stat, down_stat)
    return ShiftResult(
        alarm=alarm,
        direction=direction,
        change_start=change_start,
        statistic=statistic,
        baseline_level=level,
        baseline_sigma=sigma,
        recent_level=recent,
        history_days=history_days,
        seasonal=seasonal,
    )


@dataclass(frozen=True)
class PaceResult:
    """Per series: the projected period value at the current pace."""

    projected: FloatArray
    observed_days: IntArray


AGG_SUM = 0
AGG_MEAN = 1
AGG_LAST = 2
RECENT_DAYS = 7


def project_period(
    values: FloatArray, *, aggregation: IntArray, elapsed_days: int, period_days: int
) -> PaceResult:
    """Project each series' period value from the period-to-date columns of ``values``.

    ``values`` holds the period's first ``elapsed_days`` days (series x days, NaN gaps).
    sum: to-date sum / observed days x period days (gaps are not zeros); mean: the to-date values
    plus the recent 7-day mean for the days still to come; last: the recent 7-day mean.
    """
    values = np.asarray(values, dtype=np.float64)[:, :elapsed_days]
    seen = ~np.isnan(values)
    observed = seen.sum(axis=1)
    total = np.where(seen, values, 0.0).sum(axis=1)
    recent = values[:, -RECENT_DAYS:]
    recent_mean = _quiet_nan_reduce(np.nanmean, recent, axis=1)
    safe_observed = np.maximum(observed, 1)
    remaining = period_days - elapsed_days
    projected = np.select(
        [aggregation == AGG_SUM, aggregation == AGG_MEAN],
        [
            total / safe_observed * period_days,
            (total + recent_mean * remaining) / np.maximum(observed + remaining, 1),
        ],
        default=recent_mean,
    )
    projected = np.where(observed > 0, projected, np.nan)
    return PaceResult(projected=projected, observed_days=observed.astype(np.int64))
