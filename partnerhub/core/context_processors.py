from typing import Any

from django.http import HttpRequest

from partnerhub.core.queue import queue_reachable


def background(request: HttpRequest) -> dict[str, Any]:
    """``queue_down``: signed-in users are told when background work is delayed."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"queue_down": not queue_reachable()}
