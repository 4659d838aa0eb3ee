"""The one cross-app hook: a settlement dispute closed in the partners app (which knows nothing
of statements) lets its disputed statement be approved again."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from partners.models import Dispute, DisputeStatus

CLOSED = (DisputeStatus.RESOLVED, DisputeStatus.REJECTED)


def dispute_saved(sender: type[Dispute], instance: Dispute, **kwargs: Any) -> None:
    if instance.category != Dispute.Category.SETTLEMENT or instance.status not in CLOSED:
        return
    from settlements.services.statements import dispute_closed

    with transaction.atomic():
        dispute_closed(dispute_id=instance.pk)
