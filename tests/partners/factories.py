"""Factories for partner data; call them inside tenant_context (rows take the active tenant)."""

import factory

from partners.models import Contact, Partner, PartnerStatus, PartnerType


class PartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partner

    legal_name = factory.Sequence(lambda n: f"Partner {n} GmbH")
    trading_name = factory.Sequence(lambda n: f"Partner {n}")
    country = "DE"
    status = PartnerStatus.ACTIVE
    partner_type = factory.LazyFunction(lambda: PartnerType.objects.get(key="content_provider"))


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    partner = factory.SubFactory(PartnerFactory)
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"contact{n}@partner.test")
    role = "Account manager"
