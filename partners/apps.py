from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "partners"
    verbose_name = "Partners"

    def ready(self) -> None:
        from partnerhub.tenancy import demo, services
        from partners.demo import load_partner_demo
        from partners.services.setup import partner_programme_setup

        services.TENANT_INITIALIZERS.append(partner_programme_setup)
        demo.DEMO_LOADERS.append(load_partner_demo)
