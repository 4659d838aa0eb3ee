"""What a web worker does once when it starts instead of in its first requests.

Django imports the URLconf (every app's urls, views, serializers and DRF) on the first request,
the first page asking whether background work is delayed imports the broker's transport (Redis's
client), and each template is compiled the first time it is rendered: together over half a
second that one user waits, once per worker process and restart. ``make load`` showed them as
the slowest request of whatever page each gunicorn worker served first.
"""

from __future__ import annotations

import logging
from pathlib import Path

from celery import current_app
from django.template import TemplateSyntaxError, engines
from django.urls import get_resolver

logger = logging.getLogger(__name__)


def warm_up() -> int:
    """Import the URLconf and the broker transport, compile the project's templates into the
    cached loader; returns how many templates were compiled. Touches no database or network."""
    get_resolver().url_patterns  # noqa: B018 - importing is the point
    with current_app.connection_for_write() as connection:
        connection.transport  # noqa: B018 - imports the transport; connects on first use only
    engine = engines["django"]
    compiled = 0
    for directory in map(Path, engine.dirs):
        for path in sorted(directory.rglob("*.html")):
            try:
                engine.get_template(path.relative_to(directory).as_posix())
            except TemplateSyntaxError:
                logger.exception("Template %s does not compile", path)
            else:
                compiled += 1
    return compiled
