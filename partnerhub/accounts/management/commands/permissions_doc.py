from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from partnerhub.accounts.roles import permissions_markdown


class Command(BaseCommand):
    help = "Write docs/permissions.md from the role table in partnerhub/accounts/roles.py."

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(settings.BASE_DIR) / "docs" / "permissions.md"
        path.write_text(permissions_markdown())
        self.stdout.write(f"Wrote {path}")
