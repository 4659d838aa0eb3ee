from typing import Any

from django.core.management.base import BaseCommand

from partnerhub.tenancy.demo import load_demo


class Command(BaseCommand):
    help = "Load the demo tenants and users (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        created = load_demo()
        self.stdout.write(
            f"Demo data ready ({created['tenants']} tenants and {created['users']} users created)."
        )
