from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from partnerhub.accounts.models import User
from partnerhub.accounts.roles import Role
from partnerhub.tenancy.models import Tenant
from partnerhub.tenancy.services import membership_set, tenant_create


class Command(BaseCommand):
    help = "Create a tenant (a CSP) and its first admin; the admin sets a password by reset email."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("slug")
        parser.add_argument("name")
        parser.add_argument("--admin-email", required=True)
        parser.add_argument("--currency", default="EUR")
        parser.add_argument("--timezone", default="UTC")

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        if Tenant.objects.filter(slug=options["slug"]).exists():
            raise CommandError(f"A tenant with slug {options['slug']!r} exists already.")
        tenant = tenant_create(
            name=options["name"],
            slug=options["slug"],
            default_currency=options["currency"],
            timezone=options["timezone"],
        )
        email = options["admin_email"].lower()
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(email)  # unusable password until reset
        membership_set(tenant=tenant, user=user, role=Role.ADMIN)
        self.stdout.write(
            f"Created tenant {tenant.slug} with admin {email}. "
            "They set their password at /accounts/password/reset/."
        )
