"""The app's URLs plus the bare comparison endpoint, mounted only by bench.load.settings."""

from django.urls import path

from bench.load.views import partner_rows
from partnerhub.urls import handler404, handler500
from partnerhub.urls import urlpatterns as app_urlpatterns

urlpatterns = [path("bench/partners/", partner_rows, name="bench-partner-rows"), *app_urlpatterns]

__all__ = ["handler404", "handler500", "urlpatterns"]
