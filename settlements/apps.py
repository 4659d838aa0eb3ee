from importlib import import_module

from django.apps import AppConfig


class SettlementsConfig(AppConfig):
    name = "settlements"
    verbose_name = "Settlements"

    def ready(self) -> None:
        from partnerhub.tenancy import demo
        from settlements import demo_usage

        # Usage and FX first: the plans' demo (settlement runs) settles this usage.
        demo.DEMO_LOADERS.append(demo_usage.load)
        demo.DEMO_LOADERS.append(import_module("settlements.demo_plans").load)  # after usage
        import_module("settlements.run_tasks")  # registers the settlement run tasks with Celery
