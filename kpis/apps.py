from django.apps import AppConfig


class KpisConfig(AppConfig):
    name = "kpis"
    verbose_name = "KPIs"

    def ready(self) -> None:
        from kpis.demo import load_kpi_demo
        from kpis.services.setup import kpi_catalogue_setup
        from partnerhub.tenancy import demo, services

        services.TENANT_INITIALIZERS.append(kpi_catalogue_setup)
        demo.DEMO_LOADERS.append(load_kpi_demo)
