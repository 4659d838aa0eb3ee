"""The `make load` workload (locust): managers, a partner in the portal, API clients.

Reads the fixture that ``bench.load.run`` writes (``LOAD_FIXTURE``: logins, an API token,
partner ids, products, KPI keys, statement ids). Every request is named by its kind; names
start with ``page``, ``bare``, ``api GET`` or ``api POST``, which the report groups by. The
partner list page and the bare ``values()`` endpoint are requested with the same query
strings, so their times compare like for like.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import uuid
from datetime import date, timedelta
from typing import Any

from locust import HttpUser, between, task

with open(os.environ["LOAD_FIXTURE"]) as _f:
    FIXTURE: dict[str, Any] = json.load(_f)

WAIT = (float(os.environ.get("LOAD_WAIT_MIN", "0.5")), float(os.environ.get("LOAD_WAIT_MAX", "2")))
_counter = itertools.count()


def _partner() -> int:
    return random.choice(FIXTURE["partners"])


def _active_partner() -> int:
    return random.choice(FIXTURE["active_partners"])


def _list_query() -> dict[str, str]:
    """What a manager does on the partner list: page through it, filter, sort, search."""
    pages = FIXTURE["list_pages"]
    kind = random.random()
    if kind < 0.4:
        return {"page": str(random.randint(1, pages))}
    if kind < 0.55:
        return {"status": "active", "page": str(random.randint(1, max(1, pages // 2)))}
    if kind < 0.65:
        return {"country": random.choice(["DE", "FR", "GB", "NL"]), "ordering": "-last_contact"}
    if kind < 0.75:
        return {"search": f"Partner {random.randint(0, 99):02d}"}
    if kind < 0.85:
        return {"tier": str(random.choice(FIXTURE["tiers"])), "ordering": "-tier"}
    if kind < 0.92:
        return {"tag": str(random.choice(FIXTURE["tags"]))}
    return {"ordering": random.choice(["status", "-created", "type", "country"])}


class _Browser(HttpUser):
    """A signed-in browser: one of the persona's sessions made by bench.load.run."""

    abstract = True
    wait_time = between(*WAIT)
    persona = ""

    def on_start(self) -> None:
        keys = FIXTURE["sessions"][self.persona]
        self.client.cookies.set(FIXTURE["session_cookie"], keys[next(_counter) % len(keys)])

    def get(self, url: str, name: str, params: dict[str, str] | None = None) -> None:
        with self.client.get(url, params=params, name=name, catch_response=True) as response:
            if "/accounts/login/" in (response.url or ""):
                response.failure("not signed in (redirected to the login page)")

    def page(self, url: str, name: str, **params: Any) -> None:
        self.get(url, f"page {name}", params or None)


class Manager(_Browser):
    """A partner manager: the partner list (pages, filters, search), partners, KPIs, money."""

    weight = 3
    persona = "manager"

    @task(6)
    def partner_list(self) -> None:
        query = _list_query()
        self.page("/partners/", "partners list", **query)
        # The same rows from the bare values() endpoint, for the 2x comparison.
        self.get("/bench/partners/", "bare partners values()", query)

    @task(3)
    def partner_detail(self) -> None:
        self.page(f"/partners/{_partner()}/", "partner detail")

    @task(1)
    def partner_kpis(self) -> None:
        self.page(f"/kpis/partners/{_active_partner()}/", "partner KPIs")

    @task(1)
    def partner_statements(self) -> None:
        self.page(f"/settlements/partners/{_active_partner()}/statements/", "partner statements")

    @task(1)
    def statements(self) -> None:
        self.page("/settlements/statements/", "statements list")

    @task(1)
    def kpi_portfolio(self) -> None:
        self.page("/kpis/", "KPI portfolio")

    @task(1)
    def dashboard(self) -> None:
        self.page("/", "dashboard")


class Finance(_Browser):
    """Finance: statements, one statement, the finance dashboard."""

    weight = 1
    persona = "finance"

    @task(3)
    def statements(self) -> None:
        self.page("/settlements/statements/", "statements list", month=FIXTURE["month"])

    @task(2)
    def statement(self) -> None:
        self.page(f"/settlements/statements/{random.choice(FIXTURE['statements'])}/", "statement")

    @task(1)
    def finance_dashboard(self) -> None:
        self.page("/settlements/finance/", "finance dashboard")


class PortalPartner(_Browser):
    """A partner's user in the portal: home, statements, scorecard, agreements."""

    weight = 1
    persona = "portal"

    @task(3)
    def home(self) -> None:
        self.page("/portal/", "portal home")

    @task(2)
    def statements(self) -> None:
        self.page("/portal/statements/", "portal statements")

    @task(1)
    def statement(self) -> None:
        if FIXTURE["portal_statements"]:
            pk = random.choice(FIXTURE["portal_statements"])
            self.page(f"/portal/statements/{pk}/", "portal statement")

    @task(2)
    def scorecard(self) -> None:
        self.page("/portal/kpis/", "portal KPIs")

    @task(1)
    def agreements(self) -> None:
        self.page("/portal/agreements/", "portal agreements")


class ApiClient(HttpUser):
    """A system integration: reads lists, posts usage and KPI values in bulk."""

    weight = 2
    wait_time = between(*WAIT)

    def on_start(self) -> None:
        self.client.headers["Authorization"] = f"Bearer {FIXTURE['token']}"

    @task(3)
    def partners(self) -> None:
        page = random.randint(1, FIXTURE["api_pages"])
        self.client.get("/api/v1/partners/", params={"page": page}, name="api GET partners")

    @task(2)
    def usage(self) -> None:
        self.client.get(
            "/api/v1/settlements/usage/",
            params={"partner": _active_partner()},
            name="api GET usage of a partner",
        )

    @task(1)
    def measurements(self) -> None:
        self.client.get(
            "/api/v1/kpis/measurements/",
            params={"partner": _active_partner()},
            name="api GET KPI values of a partner",
        )

    @task(1)
    def statements(self) -> None:
        self.client.get("/api/v1/settlements/statements/", name="api GET statements")

    @task(2)
    def usage_bulk(self) -> None:
        start = date.fromisoformat(FIXTURE["month"])
        run = f"{os.getpid()}-{next(_counter)}-{uuid.uuid4().hex[:12]}"
        rows = [
            {
                "partner": _active_partner(),
                "product_code": random.choice(FIXTURE["products"]),
                "event_time": f"{start + timedelta(days=random.randint(0, 27))}T12:00:00Z",
                "quantity": str(random.randint(1, 9)),
                "gross_amount": f"{random.randint(100, 99999) / 100:.2f}",
                "tax_amount": "0.00",
                "currency": "EUR",
                "external_id": f"loadtest-{run}-{i}",
            }
            for i in range(FIXTURE["bulk_rows"])
        ]
        with self.client.post(
            "/api/v1/settlements/usage/bulk/",
            json={"rows": rows},
            name="api POST usage bulk",
            catch_response=True,
        ) as response:
            if response.status_code == 201:
                inserted = response.json()["usage_import"]["inserted"]
                if inserted != len(rows):
                    response.failure(f"{inserted} of {len(rows)} rows inserted")

    @task(1)
    def kpi_bulk(self) -> None:
        today = date.today()
        rows = [
            {
                "partner": str(_active_partner()),
                "kpi": random.choice(FIXTURE["kpis"]),
                "date": str(today - timedelta(days=random.randint(1, 60))),
                "value": f"{random.randint(0, 100000) / 100:.2f}",
            }
            for _ in range(FIXTURE["bulk_rows"])
        ]
        self.client.post(
            "/api/v1/kpis/measurements/bulk/", json={"rows": rows}, name="api POST KPI bulk"
        )
