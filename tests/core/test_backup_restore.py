"""Backup and restore as docs/security.md describes them: ``pg_dump -Fc`` as the read-only
backup role (BYPASSRLS, pg_read_all_data: deploy/roles.sql), ``pg_restore`` as the owner into a
fresh database, and the app runs on the restored copy with row-level security intact."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connections

from partnerhub.tenancy.models import Tenant


@pytest.fixture
def committed_tenant(django_db_setup, django_db_blocker):
    """A tenant with two partners, committed so pg_dump (another session) sees them; pytest-django's
    transactional mode cannot be used (its flush TRUNCATEs the append-only audit log). The test
    database is dropped at the end of the session; the tenant is deactivated after the test."""
    from partnerhub.tenancy.context import tenant_context
    from tests.factories import TenantFactory
    from tests.partners.factories import PartnerFactory

    with django_db_blocker.unblock():
        tenant = TenantFactory(slug=f"backup-{os.getpid()}")
        with tenant_context(tenant):
            PartnerFactory(legal_name="Restored Towers plc")
            PartnerFactory(legal_name="Restored Fibre Ltd")
        yield tenant
        type(tenant).objects.filter(pk=tenant.pk).update(is_active=False)
        connections.close_all()


def _binary(name: str) -> str:
    """The client tool of the embedded server's version, else the one on PATH."""
    try:
        from pgserver._commands import POSTGRES_BIN_PATH

        candidate = Path(POSTGRES_BIN_PATH) / name
        if candidate.exists():
            return str(candidate)
    except ImportError:  # pragma: no cover - pgserver is a dev dependency
        pass
    found = shutil.which(name)
    assert found, f"{name} is needed for the backup test: install the PostgreSQL client tools"
    return found


BACKUP_ROLE = os.environ.get("PARTNERHUB_BACKUP_ROLE", "partnerhub_backup")


def _libpq_env(alias: str, database: str, user: str = "") -> dict[str, str]:
    db = connections[alias].settings_dict
    env = dict(os.environ, PGHOST=db["HOST"] or "", PGUSER=user or db["USER"], PGDATABASE=database)
    if db.get("PORT"):
        env["PGPORT"] = str(db["PORT"])
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return env


def _url(alias: str, database: str) -> str:
    db = connections[alias].settings_dict
    auth = quote(db["USER"]) + (f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else "")
    host = quote(db["HOST"] or "", safe="")
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{auth}@{host}{port}/{database}"


RESTORED_CHECK = """
from partnerhub.tenancy.context import tenant_context
from partnerhub.tenancy.models import Tenant
from partners.models import Partner
tenant = Tenant.objects.get(slug="{slug}")
from django.db import connection
with connection.cursor() as cursor:  # below the ORM's tenant scope: only RLS stands here
    cursor.execute(f"SELECT count(*) FROM {{Partner._meta.db_table}}")
    print("unscoped", cursor.fetchone()[0])
with tenant_context(tenant):
    print("tenant", sorted(Partner.objects.values_list("legal_name", flat=True)))
"""


def test_a_dump_restored_into_a_fresh_database_runs_the_app(
    committed_tenant: Tenant, tmp_path: Path
) -> None:
    source = connections["owner"].settings_dict["NAME"]
    restored = f"{source}_restored"
    dump = tmp_path / "partnerhub.dump"
    owner_env = _libpq_env("owner", source)

    dumped = subprocess.run(
        [_binary("pg_dump"), "--format=custom", f"--file={dump}", source],
        env=_libpq_env("owner", source, user=BACKUP_ROLE),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert dumped.returncode == 0, dumped.stderr
    subprocess.run([_binary("dropdb"), "--if-exists", restored], env=owner_env, check=True)
    subprocess.run([_binary("createdb"), restored], env=owner_env, check=True, timeout=60)
    try:
        subprocess.run(
            [_binary("pg_restore"), "--exit-on-error", f"--dbname={restored}", str(dump)],
            env=owner_env,
            check=True,
            timeout=300,
        )
        app_env = dict(
            os.environ,
            DATABASE_URL=_url("default", restored),
            DATABASE_OWNER_URL=_url("owner", restored),
        )
        migrations = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--check", "--database=owner"],
            cwd=settings.BASE_DIR,
            env=app_env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert migrations.returncode == 0, migrations.stdout + migrations.stderr
        result = subprocess.run(
            [
                sys.executable,
                "manage.py",
                "shell",
                "-c",
                RESTORED_CHECK.format(slug=committed_tenant.slug),
            ],
            cwd=settings.BASE_DIR,
            env=app_env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        # The application role still sees nothing outside a tenant (row-level security came
        # back with the tables) and exactly its tenant's rows inside one.
        assert "unscoped 0" in result.stdout
        assert "tenant ['Restored Fibre Ltd', 'Restored Towers plc']" in result.stdout
    finally:
        subprocess.run([_binary("dropdb"), "--if-exists", restored], env=owner_env, check=False)
