"""CSP pages under /partners/; each area module owns its own urlpatterns."""

from partners.views import agreements, onboarding, registry, relationship

app_name = "partners"

urlpatterns = [
    *registry.urlpatterns,
    *onboarding.urlpatterns,
    *agreements.urlpatterns,
    *relationship.urlpatterns,
]
