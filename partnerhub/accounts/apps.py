from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "partnerhub.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from partnerhub.accounts import schema  # noqa: F401 - registers the OpenAPI extension
