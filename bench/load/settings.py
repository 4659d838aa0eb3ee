"""Settings of `make load`: production settings (DJANGO_DEBUG off) plus the bench-only URLs.

The load test talks plain HTTP to gunicorn on 127.0.0.1, as a TLS proxy would, so the HTTPS
redirect and secure-only cookies (which a client would not send back over HTTP) are off.
Never used outside ``bench/load``: production runs ``partnerhub.settings``.
"""

from partnerhub.settings import *  # noqa: F403

ROOT_URLCONF = "bench.load.urls"
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
