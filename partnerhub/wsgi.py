import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partnerhub.settings")
application = get_wsgi_application()

from partnerhub.core.warmup import warm_up  # noqa: E402 - needs the app set up

warm_up()
