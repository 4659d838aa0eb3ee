from importlib import import_module

from django.apps import AppConfig


class SettlementsConfig(AppConfig):
    name = "settlements"
    verbose_name = "Settlements"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from partnerhub.tenancy import demo
        from partners.models import Dispute
        from settlements import demo_usage
        from settlements.signals import dispute_saved

        post_save.connect(dispute_saved, sender=Dispute, dispatch_uid="settlements_dispute_saved")

        # Usage and FX first: the plans' demo (settlement runs) settles this usage.
        demo.DEMO_LOADERS.append(demo_usage.load)
        demo.DEMO_LOADERS.append(import_module("settlements.demo_plans").load)  # after usage
        demo.DEMO_LOADERS.append(import_module("settlements.demo_statements").load)  # after runs
        import_module("settlements.run_tasks")  # registers the settlement run tasks with Celery
