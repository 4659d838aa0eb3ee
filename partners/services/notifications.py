"""Notifications: in-app rows (inbox and tasks) and their emails, created idempotently.

Other areas call ``notify`` for events (application received, step completed, status changed,
dispute updated) and the daily reminders job for tasks; ``dedup_key`` makes a repeated call a no-op.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from partnerhub.accounts.models import User
from partnerhub.tenancy.context import require_current_tenant
from partners.models import Notification, Partner

logger = logging.getLogger(__name__)

KINDS = (
    "application_received",
    "step_completed",
    "partner_status_changed",
    "dispute_updated",
    "agreement_review_due",
    "agreement_ending",
    "document_expiring",
    "partner_quiet",
)


_emails_muted: ContextVar[bool] = ContextVar("partners_emails_muted", default=False)


@contextmanager
def emails_muted() -> Iterator[None]:
    """In-app notifications only, no email, inside this block (demo data, bulk imports)."""
    token = _emails_muted.set(True)
    try:
        yield
    finally:
        _emails_muted.reset(token)


def _absolute(url: str) -> str:
    base = getattr(settings, "SITE_URL", "") or ""
    return f"{base.rstrip('/')}{url}" if url.startswith("/") and base else url


def _send_emails(messages: list[tuple[str, str, str]]) -> None:
    """Send one email per recipient (never several addresses on one message)."""
    for subject, text, address in messages:
        try:
            send_mail(subject=subject, message=text, from_email=None, recipient_list=[address])
        except Exception:  # the in-app notification stands even when mail fails
            logger.exception("Could not email a notification to %s", address)


@transaction.atomic
def notify(
    *,
    users: Iterable[User],
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    partner: Partner | None = None,
    dedup_key: str,
    email: bool = True,
    is_task: bool = False,
    due_on: date | None = None,
) -> list[Notification]:
    """Create one notification per user unless that user already has ``dedup_key``.

    Returns only the rows created now; their emails go out after the transaction commits,
    so a rolled-back change sends nothing and a repeated call sends nothing twice.
    """
    tenant = require_current_tenant()
    recipients: dict[int, User] = {}
    for user in users:
        if user is not None and user.pk is not None and user.is_active:
            recipients.setdefault(user.pk, user)
    if not recipients:
        return []
    existing = set(
        Notification.objects.filter(user_id__in=recipients, dedup_key=dedup_key).values_list(
            "user_id", flat=True
        )
    )
    created: list[Notification] = []
    for user_id, user in recipients.items():
        if user_id in existing:
            continue
        row = Notification(
            tenant=tenant,
            user=user,
            kind=kind,
            title=title[:200],
            body=body,
            url=url[:300],
            partner=partner,
            dedup_key=dedup_key[:200],
            is_task=is_task,
            due_on=due_on,
        )
        row.full_clean(exclude=["tenant", "user", "partner"], validate_constraints=False)
        try:
            with transaction.atomic():
                row.save()
        except IntegrityError:  # a concurrent call created it first
            continue
        created.append(row)
    if created and email and not _emails_muted.get():
        text = "\n\n".join(part for part in (body, _absolute(url)) if part) or title
        messages = [
            (f"[{tenant.name}] {title}", text, row.user.email) for row in created if row.user.email
        ]
        if messages:
            transaction.on_commit(lambda: _send_emails(messages))
    return created


@transaction.atomic
def notifications_mark_read(*, user: User, ids: Iterable[int] | None = None) -> int:
    """Mark the user's notifications read: the given ids (others' ids are ignored) or all."""
    queryset = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        queryset = queryset.filter(pk__in=list(ids))
    return queryset.update(read_at=timezone.now())
