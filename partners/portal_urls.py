"""The partner portal (/portal/) and the public application form (/apply/<tenant>/)."""

from partners.views import portal, relationship

app_name = "portal"

urlpatterns = [
    *portal.urlpatterns,
    *relationship.portal_urlpatterns,
]
