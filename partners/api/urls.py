"""Partners API, mounted under /api/v1/; each area module owns its own routes."""

from partners.api import agreements, onboarding, portal, registry, relationship

urlpatterns = [
    *registry.urlpatterns,
    *onboarding.urlpatterns,
    *agreements.urlpatterns,
    *relationship.urlpatterns,
    *portal.urlpatterns,
]
