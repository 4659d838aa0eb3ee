"""Statement pages of the partner portal (/portal/statements/), namespace "settlements_portal"."""

from settlements.views import portal

app_name = "settlements_portal"

urlpatterns = [*portal.urlpatterns]
