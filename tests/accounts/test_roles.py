from pathlib import Path

from django.conf import settings

from partnerhub.accounts.roles import ROLE_PERMISSIONS, Perm, Role, permissions_markdown


def test_docs_permissions_md_matches_the_code() -> None:
    doc = Path(settings.BASE_DIR, "docs", "permissions.md").read_text()
    assert doc == permissions_markdown(), "run `python manage.py permissions_doc`"


def test_read_only_viewer_has_no_permission_that_changes_anything() -> None:
    changing = {p for p in Perm if not p.value.endswith(".view")} - {Perm.API_TOKENS_OWN}
    changing -= {Perm.PORTAL_ACCESS}
    assert ROLE_PERMISSIONS[Role.VIEWER].isdisjoint(changing)


def test_only_finance_approves_statements() -> None:
    approvers = {r for r, perms in ROLE_PERMISSIONS.items() if Perm.SETTLEMENTS_APPROVE in perms}
    assert approvers == {Role.FINANCE}
