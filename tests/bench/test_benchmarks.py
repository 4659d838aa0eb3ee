"""`make bench` keeps working: each benchmark runs end to end at a tiny size in its own scratch
database (next to the test server) and writes its figures. Its timings mean nothing at this
size; the speed targets are read from full runs (README, "Benchmarks")."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _bench(module: str, *args: str, output: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", module, *args, "--output", str(output)],
        cwd=ROOT,
        env={**os.environ, "DJANGO_DEBUG": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_ingest_bench_imports_every_row_and_measures_the_floors(tmp_path):
    out = _bench(
        "bench.ingest_bench",
        *("--rows", "300", "--memory-rows", "50", "--repeat", "2"),
        output=tmp_path / "results.json",
    )
    assert out.count("app import") == 3  # two samples and the median
    assert out.count("(300 inserted, 0 rejected, status done)") == 2
    figures = json.loads((tmp_path / "results.json").read_text())["ingest"]
    assert figures["rows"] == 300 and len(figures["import_samples"]) == 2
    assert set(figures["floors"]) == {
        "copy_with_unique_key_seconds",
        "staging_then_insert_seconds",
        "staging_then_insert_with_unique_key_seconds",
    }
    assert all(f["seconds"] > 0 and f["ratio"] > 0 for f in figures["floors"].values())
    assert [m["rows"] for m in figures["memory"]] == [50, 500]
    assert [m["inserted"] for m in figures["memory"]] == [50, 500]


def test_settle_bench_writes_a_statement_per_partner(tmp_path):
    _bench("bench.settle_bench", "--rows", "2000", "--repeat", "1", output=tmp_path / "r.json")
    figures = json.loads((tmp_path / "r.json").read_text())["settlement"]
    assert figures["rows"] == 2000 and figures["statements"] > 0
    assert figures["settlement_run_seconds"] > 0 and figures["plain_group_by_seconds"] > 0


def test_drift_bench_runs_the_job_over_every_series(tmp_path):
    _bench(
        "bench.drift_bench",
        *("--partners", "5", "--kpis", "2", "--days", "10", "--repeat", "1"),
        output=tmp_path / "drift.json",
    )
    figures = json.loads((tmp_path / "drift.json").read_text())
    assert (figures["partners"], figures["kpis"], figures["days"]) == (5, 2, 10)
    assert figures["series"] == 10 and figures["job_seconds"] > 0
