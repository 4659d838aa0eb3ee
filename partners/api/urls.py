"""Partners API, mounted under /api/v1/; each area module owns its own routes."""

from partners.api import (
    agreements,
    dashboard,
    onboarding,
    portal,
    programme,
    registry,
    relationship,
)

urlpatterns = [
    *registry.urlpatterns,
    *onboarding.urlpatterns,
    *agreements.urlpatterns,
    *relationship.urlpatterns,
    *dashboard.urlpatterns,
    *programme.urlpatterns,
    *portal.urlpatterns,
]
