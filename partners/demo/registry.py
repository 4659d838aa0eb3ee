"""Demo data: the partner registry of `demo` (~40 partners) and `second` (4 partners).

Idempotent: partners are found by legal name, contacts by email, tags and bank details by
their partner, so a second run changes nothing. Statuses are set directly; the onboarding
demo adds transitions and checklists, the relationship demo interactions (last contact).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from partnerhub.accounts.models import User
from partnerhub.tenancy.models import Tenant
from partners.models import (
    BankDetails,
    Contact,
    Partner,
    PartnerStatus,
    PartnerTag,
    PartnerTier,
    PartnerType,
    RiskLevel,
    Tag,
)

S = PartnerStatus


@dataclass(frozen=True)
class Spec:
    legal_name: str
    trading_name: str
    type_key: str
    country: str
    status: str
    tier: str = ""
    owner: str = "manager@demo.test"
    tags: tuple[str, ...] = ()
    website: str = ""
    offering: str = ""
    risk: str = ""
    rejection_reason: str = ""
    contacts: tuple[tuple[str, str, str, str], ...] = field(default=())  # name, role, email, phone
    iban: str = ""
    bic: str = ""
    bank: str = ""
    currency: str = "EUR"


TV, CP, SI, CO, IP = (
    "technology_vendor",
    "channel_partner",
    "service_integrator",
    "content_provider",
    "infrastructure_provider",
)
ADMIN = "admin@demo.test"

# Valid IBANs (correct check digits) of the countries used below.
IBANS = [
    ("DE89370400440532013000", "COBADEFFXXX", "Commerzbank"),
    ("GB29NWBK60161331926819", "NWBKGB2L", "NatWest"),
    ("FR1420041010050500013M02606", "PSSTFRPPXXX", "La Banque Postale"),
    ("NL91ABNA0417164300", "ABNANL2A", "ABN AMRO"),
    ("ES9121000418450200051332", "CAIXESBBXXX", "CaixaBank"),
    ("IT60X0542811101000000123456", "BPMOIT22XXX", "Banco BPM"),
    ("SE4550000000058398257466", "ESSESESS", "SEB"),
    ("AT611904300234573201", "BKAUATWW", "UniCredit Bank Austria"),
    ("BE68539007547034", "GKCCBEBB", "Belfius"),
    ("CH9300762011623852957", "UBSWCHZH80A", "UBS"),
    ("DK5000400440116243", "DABADKKK", "Danske Bank"),
    ("PL61109010140000071219812874", "WBKPPLPP", "Santander Bank Polska"),
]

DEMO: list[Spec] = [
    # The two fixed names other areas rely on.
    Spec(
        "StreamWave Media GmbH",
        "StreamWave Media",
        CO,
        "DE",
        S.ACTIVE,
        tier="Gold",
        tags=("Video", "Consumer", "Strategic"),
        website="https://streamwave.example",
        offering="Video-on-demand bundles for mobile and fibre subscribers.",
        risk=RiskLevel.LOW,
        contacts=(
            (
                "Lena Fischer",
                "Head of partnerships",
                "lena.fischer@streamwave.example",
                "+49 30 1234 5678",
            ),
            ("Jonas Weber", "Billing lead", "jonas.weber@streamwave.example", "+49 30 1234 5679"),
        ),
    ),
    Spec(
        "NordTower Infrastructure AB",
        "NordTower Infrastructure",
        IP,
        "SE",
        S.DUE_DILIGENCE,
        tags=("Towers", "5G"),
        website="https://nordtower.example",
        offering="Tower sites and rooftop leases across the Nordics.",
        risk=RiskLevel.MEDIUM,
        contacts=(
            ("Sara Lindqvist", "Business development", "sara@nordtower.example", "+46 8 555 0101"),
        ),
    ),
    # Technology vendors
    Spec(
        "Arctis Networks Oy",
        "Arctis Networks",
        TV,
        "FI",
        S.ACTIVE,
        "Gold",
        ADMIN,
        ("5G", "RAN"),
        "https://arctis.example",
        "Open RAN radios and small cells.",
        RiskLevel.LOW,
    ),
    Spec(
        "Helix Cloud Systems Ltd",
        "Helix Cloud",
        TV,
        "GB",
        S.ACTIVE,
        "Silver",
        tags=("Cloud", "Enterprise"),
        offering="Cloud-native packet core.",
        risk=RiskLevel.LOW,
    ),
    Spec(
        "Quantica Security BV",
        "Quantica",
        TV,
        "NL",
        S.ACTIVE,
        "Silver",
        ADMIN,
        ("Security",),
        offering="Network firewalls and DDoS protection.",
        risk=RiskLevel.MEDIUM,
    ),
    Spec(
        "Orbiton Satcom SAS",
        "Orbiton",
        TV,
        "FR",
        S.INTEGRATION,
        "Bronze",
        tags=("Satellite", "IoT"),
        offering="Satellite backhaul terminals.",
        risk=RiskLevel.MEDIUM,
    ),
    Spec(
        "Pulse Analytics GmbH",
        "Pulse Analytics",
        TV,
        "DE",
        S.VETTING,
        tags=("Analytics",),
        offering="Network analytics and churn prediction.",
    ),
    Spec(
        "Ferrum Edge Computing SpA",
        "Ferrum Edge",
        TV,
        "IT",
        S.SUSPENDED,
        "Bronze",
        ADMIN,
        ("Edge",),
        offering="Multi-access edge computing nodes.",
        risk=RiskLevel.HIGH,
    ),
    Spec(
        "Voxel Devices Ltd",
        "Voxel Devices",
        TV,
        "GB",
        S.REJECTED,
        tags=("Devices",),
        offering="Low-cost handsets.",
        risk=RiskLevel.CRITICAL,
        rejection_reason="Failed the security questionnaire: no firmware update process.",
    ),
    Spec(
        "Kestrel Telemetry AS",
        "Kestrel Telemetry",
        TV,
        "DK",
        S.ACTIVE,
        "Bronze",
        tags=("IoT",),
        offering="NB-IoT telemetry modules.",
        risk=RiskLevel.LOW,
    ),
    # Channel partners / resellers
    Spec(
        "CityMobile Retail Ltd",
        "CityMobile",
        CP,
        "GB",
        S.ACTIVE,
        "Gold",
        tags=("Retail", "Consumer"),
        offering="120 high-street phone shops.",
        risk=RiskLevel.LOW,
    ),
    Spec(
        "Telepunkt Vertrieb GmbH",
        "Telepunkt",
        CP,
        "DE",
        S.ACTIVE,
        "Silver",
        ADMIN,
        ("Retail",),
        offering="Regional retail chain for mobile contracts.",
        risk=RiskLevel.LOW,
    ),
    Spec(
        "Connecta Distribución SL",
        "Connecta",
        CP,
        "ES",
        S.ACTIVE,
        "Silver",
        tags=("Enterprise", "SME"),
        offering="SME connectivity reseller.",
        risk=RiskLevel.MEDIUM,
    ),
    Spec(
        "Alpine Connect AG",
        "Alpine Connect",
        CP,
        "CH",
        S.ACTIVE,
        "Bronze",
        tags=("SME",),
        offering="Business fibre and mobile bundles.",
        risk=RiskLevel.LOW,
    ),
    Spec(
        "BlueLine Partners BV",
        "BlueLine",
        CP,
        "NL",
        S.CONTRACTING,
        tags=("Enterprise",),
        offering="Managed mobility for corporates.",
        risk=RiskLevel.LOW,
    ),
    Spec(
        "Vistula Telecom Sp. z o.o.",
        "Vistula Telecom",
        CP,
        "PL",
        S.APPLIED,
        tags=("Consumer",),
        offering="Prepaid top-up network in kiosks.",
    ),
    Spec(
        "Lumen Reseller Services SRL",
        "Lumen Reseller",
        CP,
        "IT",
        S.OFFBOARDING,
        "Bronze",
        ADMIN,
        ("Retail",),
        offering="Retail franchise (leaving the programme).",
        risk=RiskLevel.MEDIUM,
    ),
    Spec(
        "Digitalia Shops SA",
        "Digitalia",
        CP,
        "BE",
        S.EXITED,
        tags=("Retail",),
        offering="Former reseller; contract ended.",
        risk=RiskLevel.LOW,
    ),
    # Service integrators
    Spec(
        "Meridian Integration Services Ltd",
        "Meridian",
        SI,
        "GB",
        S.ACTIVE,
        "Gold",
        ADMIN,
        ("Enterprise", "Strategic"),
        offering="Private 5G campus networks for industry.",
        risk=RiskLevel.LOW,
    ),
    Spec(
        "Nexora Consulting GmbH",
        "Nexora",
        SI,
        "AT",
        S.ACTIVE,
        "Silver",
        tags=("Cloud",),
        offering="OSS/BSS integration.",
        risk=RiskLevel.LOW,
    ),
    Spec(
        "Solvanta IT SAS",
        "Solvanta",
        SI,
        "FR",
        S.ACTIVE,
        "Bronze",
        tags=("Enterprise",),
        offering="SD-WAN roll-outs for retail chains.",
        risk=RiskLevel.MEDIUM,
    ),
    Spec(
        "Brightpath Systems AB",
        "Brightpath",
        SI,
        "SE",
        S.INTEGRATION,
        tags=("IoT", "Edge"),
        offering="Smart-city IoT platforms.",
        risk=RiskLevel.LOW,
    ),
    Spec(
        "Iberia Tech Partners SL",
        "Iberia Tech",
        SI,
        "ES",
        S.DUE_DILIGENCE,
        tags=("Enterprise",),
        offering="Unified communications integration.",
        risk=RiskLevel.HIGH,
    ),
    Spec(
        "Polaris Digital ApS",
        "Polaris Digital",
        SI,
        "DK",
        S.VETTING,
        offering="Contact-centre integration.",
    ),
    # Content providers
    Spec(
        "Soundwave Music Ltd",
        "Soundwave",
        CO,
        "GB",
        S.ACTIVE,
        "Silver",
        tags=("Music", "Consumer"),
        offering="Music streaming bundled with tariffs.",
        risk=RiskLevel.LOW,
    ),
    Spec(
        "Kinetic Games Studio BV",
        "Kinetic Games",
        CO,
        "NL",
        S.ACTIVE,
        "Bronze",
        ADMIN,
        ("Gaming", "Consumer"),
        offering="Cloud gaming subscriptions.",
        risk=RiskLevel.MEDIUM,
    ),
    Spec(
        "Cinéma Direct SA",
        "Cinéma Direct",
        CO,
        "FR",
        S.ACTIVE,
        "Silver",
        tags=("Video",),
        offering="French-language film library.",
        risk=RiskLevel.LOW,
    ),
    Spec(
        "Sportline Media GmbH",
        "Sportline",
        CO,
        "DE",
        S.ACTIVE,
        "Gold",
        tags=("Video", "Sports", "Strategic"),
        offering="Live football and motorsport streams.",
        risk=RiskLevel.LOW,
    ),
    Spec(
        "Newsroom Digital SRL",
        "Newsroom Digital",
        CO,
        "IT",
        S.CONTRACTING,
        tags=("News",),
        offering="Premium news subscriptions.",
        risk=RiskLevel.LOW,
    ),
    Spec(
        "Kids Planet Media SL",
        "Kids Planet",
        CO,
        "ES",
        S.APPLIED,
        tags=("Video", "Family"),
        offering="Children's video catalogue.",
    ),
    Spec(
        "Audiobook Haven Ltd",
        "Audiobook Haven",
        CO,
        "GB",
        S.REJECTED,
        offering="Audiobooks.",
        risk=RiskLevel.HIGH,
        rejection_reason="Could not show the distribution rights for the catalogue.",
    ),
    Spec(
        "FitStream Oy",
        "FitStream",
        CO,
        "FI",
        S.SUSPENDED,
        "Bronze",
        tags=("Health",),
        offering="Fitness video classes.",
        risk=RiskLevel.HIGH,
    ),
    # Infrastructure providers
    Spec(
        "Fibrenet Wholesale Ltd",
        "Fibrenet",
        IP,
        "GB",
        S.ACTIVE,
        "Gold",
        ADMIN,
        ("Fibre", "Strategic"),
        offering="Wholesale dark fibre and ducts.",
        risk=RiskLevel.LOW,
    ),
    Spec(
        "Rheinland Towers GmbH",
        "Rheinland Towers",
        IP,
        "DE",
        S.ACTIVE,
        "Silver",
        tags=("Towers",),
        offering="1,800 tower sites in western Germany.",
        risk=RiskLevel.LOW,
    ),
    Spec(
        "DataHarbor Colocation BV",
        "DataHarbor",
        IP,
        "NL",
        S.ACTIVE,
        "Silver",
        tags=("Data centre", "Edge"),
        offering="Colocation and edge data centres.",
        risk=RiskLevel.LOW,
    ),
    Spec(
        "Tirreno Fibra SpA",
        "Tirreno Fibra",
        IP,
        "IT",
        S.INTEGRATION,
        tags=("Fibre",),
        offering="FTTH open-access network.",
        risk=RiskLevel.MEDIUM,
    ),
    Spec(
        "Vltava Power & Sites s.r.o.",
        "Vltava Sites",
        IP,
        "CZ",
        S.APPLIED,
        tags=("Towers",),
        offering="Rooftop sites and site power.",
    ),
    Spec(
        "Baltic Subsea Cable AS",
        "Baltic Subsea",
        IP,
        "DK",
        S.OFFBOARDING,
        "Bronze",
        tags=("Fibre",),
        offering="Subsea capacity (contract ending).",
        risk=RiskLevel.MEDIUM,
    ),
    Spec(
        "GreenGrid Energy Sites SL",
        "GreenGrid",
        IP,
        "ES",
        S.EXITED,
        offering="Solar power for remote sites.",
        risk=RiskLevel.LOW,
    ),
]

SECOND: list[Spec] = [
    Spec(
        "Thames Fibre Ltd",
        "Thames Fibre",
        IP,
        "GB",
        S.ACTIVE,
        "Gold",
        "manager@second.test",
        ("Fibre",),
        offering="London metro fibre.",
        risk=RiskLevel.LOW,
    ),
    Spec(
        "Highland Retail Group Ltd",
        "Highland Retail",
        CP,
        "GB",
        S.ACTIVE,
        "Silver",
        "manager@second.test",
        ("Retail",),
        offering="Phone shops in Scotland.",
        risk=RiskLevel.LOW,
    ),
    Spec(
        "Pennine Games Ltd",
        "Pennine Games",
        CO,
        "GB",
        S.VETTING,
        owner="manager@second.test",
        offering="Casual mobile games.",
    ),
    Spec(
        "Severn IoT Solutions Ltd",
        "Severn IoT",
        SI,
        "GB",
        S.APPLIED,
        owner="manager@second.test",
        tags=("IoT",),
        offering="Asset tracking.",
    ),
]

FIRST_NAMES = ["Anna", "Marco", "Sofia", "Lukas", "Emma", "Noah", "Clara", "Mateo", "Ida", "Oliver"]
LAST_NAMES = [
    "Berg",
    "Rossi",
    "Martin",
    "Novak",
    "Jansen",
    "Garcia",
    "Schmidt",
    "Dubois",
    "Nielsen",
]
ROLES = ["Account manager", "Head of partnerships", "Finance contact", "Technical lead"]


def _domain(spec: Spec) -> str:
    slug = "".join(ch for ch in spec.trading_name.lower() if ch.isalnum())
    return f"{slug or 'partner'}.example"


def _contacts(index: int, spec: Spec) -> tuple[tuple[str, str, str, str], ...]:
    if spec.contacts:
        return spec.contacts
    first = FIRST_NAMES[index % len(FIRST_NAMES)]
    last = LAST_NAMES[(index * 3) % len(LAST_NAMES)]
    second_first = FIRST_NAMES[(index + 4) % len(FIRST_NAMES)]
    domain = _domain(spec)
    people = [(f"{first} {last}", ROLES[index % len(ROLES)], f"{first.lower()}@{domain}", "")]
    if index % 3 == 0:
        people.append((f"{second_first} {last}", "Finance contact", f"finance@{domain}", ""))
    return tuple(people)


def _load(tenant: Tenant, specs: list[Spec]) -> None:
    types = {t.key: t for t in PartnerType.objects.all()}
    tiers = {t.name: t for t in PartnerTier.objects.all()}
    owners = {u.email: u for u in User.objects.filter(email__in={s.owner for s in specs})}
    for index, spec in enumerate(specs):
        partner, _ = Partner.objects.get_or_create(
            legal_name=spec.legal_name,
            defaults={
                "tenant": tenant,
                "trading_name": spec.trading_name,
                "partner_type": types[spec.type_key],
                "country": spec.country,
                "status": spec.status,
                "tier": tiers.get(spec.tier),
                "account_owner": owners.get(spec.owner),
                "website": spec.website or f"https://{_domain(spec)}",
                "offering": spec.offering,
                "risk_level": spec.risk,
                "rejection_reason": spec.rejection_reason,
                "registration_number": f"REG-{spec.country}-{10000 + index * 37}",
                "tax_id": f"{spec.country}{900000000 + index * 7919}",
                "last_contact_on": None,
            },
        )
        for name in spec.tags:
            tag, _ = Tag.objects.get_or_create(name=name, defaults={"tenant": tenant})
            PartnerTag.objects.get_or_create(partner=partner, tag=tag, defaults={"tenant": tenant})
        for position, (name, role, email, phone) in enumerate(_contacts(index, spec)):
            Contact.objects.get_or_create(
                partner=partner,
                email=email,
                defaults={
                    "tenant": tenant,
                    "name": name,
                    "role": role,
                    "phone": phone,
                    "is_primary": position == 0,
                },
            )
        if spec.status in (S.ACTIVE, S.SUSPENDED, S.OFFBOARDING):
            iban, bic, bank = IBANS[index % len(IBANS)]
            BankDetails.objects.get_or_create(
                partner=partner,
                defaults={
                    "tenant": tenant,
                    "account_holder": spec.legal_name,
                    "iban": iban,
                    "swift_bic": bic,
                    "bank_name": bank,
                    "currency": "GBP" if spec.country == "GB" else spec.currency,
                },
            )


def load(tenant: Tenant) -> None:
    """Idempotent: a second run changes nothing."""
    if tenant.slug == "demo":
        _load(tenant, DEMO)
    elif tenant.slug == "second":
        _load(tenant, SECOND)
