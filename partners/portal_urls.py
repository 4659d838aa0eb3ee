"""The partner portal (/portal/) and the public application form (/apply/<tenant>/)."""

from partners.views import portal, relationship
from settlements.views import portal as settlement_portal

app_name = "portal"

urlpatterns = [
    *portal.urlpatterns,
    *relationship.portal_urlpatterns,
    *settlement_portal.portal_urlpatterns,
]
