from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from partnerhub.accounts.api import ApiTokenViewSet, MeView, TokenObtainView
from partnerhub.audit.api import AuditEntryViewSet
from partnerhub.core.health import healthz

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("auth/tokens", ApiTokenViewSet, basename="api-token")
router.register("audit", AuditEntryViewSet, basename="audit-entry")

api_v1 = [
    path("auth/token/", TokenObtainView.as_view(), name="token-obtain"),
    path("me/", MeView.as_view(), name="me"),
    *router.urls,
    path("", include("partners.api.urls")),
    path("", include("kpis.api.urls")),
    path("", include("settlements.api.urls")),
]

urlpatterns = [
    path("", include("partnerhub.core.urls")),
    path("accounts/", include("partnerhub.accounts.urls")),
    path("audit/", include("partnerhub.audit.urls")),
    path("partners/", include("partners.urls")),
    path("", include("partners.portal_urls")),
    path("kpis/", include("kpis.urls")),
    path("", include("kpis.portal_urls")),
    path("", include("settlements.portal_urls")),
    path("settlements/", include("settlements.urls")),
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
]

handler404 = "partnerhub.core.errors.page_not_found"
handler500 = "partnerhub.core.errors.server_error"
