import factory

from partnerhub.accounts.models import User
from partnerhub.tenancy.models import Tenant
from partnerhub.tenancy.services import tenant_initialize

PASSWORD = "correct horse battery staple"


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant
        django_get_or_create = ("slug",)
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Telecom {n}")
    slug = factory.Sequence(lambda n: f"telecom-{n}")
    default_currency = "EUR"
    timezone = "Europe/Berlin"

    @factory.post_generation
    def initialize(obj, create, extracted, **kwargs):
        """Starter data of every tenant (partner types, checklists, ...), as tenant_create does."""
        if create:
            tenant_initialize(tenant=obj)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    full_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()
