"""Production configuration: refuses to start without secrets, passes check --deploy."""

from __future__ import annotations

import os
import subprocess
import sys

from django.conf import settings

PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "k" * 20 + "-production-secret-for-the-deploy-check-0123456789",
    "DJANGO_ALLOWED_HOSTS": "partners.example.com",
}


def _run(args: list[str], **overrides: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **overrides}
    for key, value in overrides.items():
        if value == "":
            env.pop(key)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_refuses_to_start_without_a_secret_key() -> None:
    result = _run(["check"], **{**PRODUCTION, "DJANGO_SECRET_KEY": ""})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is required" in result.stderr


def test_production_refuses_a_missing_database_url() -> None:
    result = _run(["check"], **{**PRODUCTION, "DATABASE_URL": ""})
    assert result.returncode != 0
    assert "DATABASE_URL is not set" in result.stderr


def test_production_settings_pass_check_deploy_without_warnings() -> None:
    result = _run(["check", "--deploy", "--fail-level", "WARNING"], **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_openapi_schema_generates_without_warnings() -> None:
    result = _run(["spectacular", "--validate", "--fail-on-warn", "--file", os.devnull])
    assert result.returncode == 0, result.stderr
