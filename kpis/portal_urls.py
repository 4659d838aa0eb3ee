"""KPI pages of the partner portal (/portal/kpis/), namespace "kpis_portal"."""

from kpis.views import portal

app_name = "kpis_portal"

urlpatterns = [*portal.urlpatterns]
