"""Usage summed per local day (``settlements.UsageDay``), kept by triggers on the usage table.

Statement-level AFTER triggers with transition tables on the partitioned parent: one per INSERT,
DELETE and UPDATE (PostgreSQL allows transition tables on single-event triggers only), all three
calling ``settlements_usageday_apply()``, which takes the old rows' sums off and adds the new
rows' sums, grouped by (tenant, partner, local day, product, currency, import). Rows moved from
the default partition into a new month's partition (``settlements_usage_partition``) are
written to the partitions directly, which fires no trigger of the parent: their sums stay.
A tenant's new time zone rebuilds its days (``settlements_usageday_rezone()``). Existing usage is
summed once here, tenant by tenant (row-level security shows the owner one tenant at a time).
"""

import django.db.models.deletion
from django.db import migrations, models

# One row per (tenant, partner, local day, product, currency, import) of the rows in ``src``.
SUMS = """
    SELECT r.tenant_id, r.partner_id, (r.event_time AT TIME ZONE t.timezone)::date,
           r.product_code, r.currency, r.usage_import_id, count(*), sum(r.quantity),
           sum(r.gross_amount), sum(r.tax_amount)
    FROM {src} r JOIN tenancy_tenant t ON t.id = r.tenant_id
    {where}
    GROUP BY 1, 2, 3, 4, 5, 6
"""
COLUMNS = (
    "tenant_id, partner_id, day, product_code, currency, usage_import_id,"
    " record_count, quantity, gross_amount, tax_amount"
)
KEY = "tenant_id, partner_id, day, product_code, currency, usage_import_id"

FUNCTIONS_SQL = f"""
CREATE FUNCTION settlements_usageday_apply() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $fn$
DECLARE
    emptied bigint[];
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        WITH gone ({COLUMNS}) AS ({SUMS.format(src="old_rows", where="")}),
        taken AS (
            UPDATE settlements_usageday d
            SET record_count = d.record_count - g.record_count,
                quantity = d.quantity - g.quantity,
                gross_amount = d.gross_amount - g.gross_amount,
                tax_amount = d.tax_amount - g.tax_amount
            FROM gone g
            WHERE d.tenant_id = g.tenant_id AND d.partner_id = g.partner_id AND d.day = g.day
              AND d.product_code = g.product_code AND d.currency = g.currency
              AND d.usage_import_id IS NOT DISTINCT FROM g.usage_import_id
            RETURNING d.id, d.record_count
        )
        SELECT array_agg(id) INTO emptied FROM taken WHERE record_count = 0;
        DELETE FROM settlements_usageday WHERE id = ANY(emptied);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO settlements_usageday AS d ({COLUMNS})
        {SUMS.format(src="new_rows", where="")}
        ON CONFLICT ({KEY}) DO UPDATE
        SET record_count = d.record_count + EXCLUDED.record_count,
            quantity = d.quantity + EXCLUDED.quantity,
            gross_amount = d.gross_amount + EXCLUDED.gross_amount,
            tax_amount = d.tax_amount + EXCLUDED.tax_amount;
    END IF;
    RETURN NULL;
END
$fn$;

CREATE TRIGGER settlements_usageday_insert AFTER INSERT ON settlements_usagerecord
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION settlements_usageday_apply();
CREATE TRIGGER settlements_usageday_delete AFTER DELETE ON settlements_usagerecord
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION settlements_usageday_apply();
CREATE TRIGGER settlements_usageday_update AFTER UPDATE ON settlements_usagerecord
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION settlements_usageday_apply();

-- Row-level security shows the usage of the active tenant only: the rebuild makes the changed
-- tenant the active one for its two statements, then puts back whichever was active.
CREATE FUNCTION settlements_usageday_rezone() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $fn$
DECLARE
    active text := current_setting('app.tenant_id', true);
BEGIN
    PERFORM set_config('app.tenant_id', NEW.id::text, true);
    DELETE FROM settlements_usageday WHERE tenant_id = NEW.id;
    INSERT INTO settlements_usageday ({COLUMNS})
    {SUMS.format(src="settlements_usagerecord", where="WHERE r.tenant_id = NEW.id")};
    PERFORM set_config('app.tenant_id', COALESCE(active, ''), true);
    RETURN NULL;
END
$fn$;

CREATE TRIGGER settlements_usageday_rezone AFTER UPDATE OF timezone ON tenancy_tenant
    FOR EACH ROW WHEN (OLD.timezone IS DISTINCT FROM NEW.timezone)
    EXECUTE FUNCTION settlements_usageday_rezone();
"""  # noqa: S608 - constants only

DROP_FUNCTIONS_SQL = """
DROP TRIGGER settlements_usageday_rezone ON tenancy_tenant;
DROP FUNCTION settlements_usageday_rezone();
DROP TRIGGER settlements_usageday_insert ON settlements_usagerecord;
DROP TRIGGER settlements_usageday_delete ON settlements_usagerecord;
DROP TRIGGER settlements_usageday_update ON settlements_usagerecord;
DROP FUNCTION settlements_usageday_apply();
"""


def sum_existing_usage(apps, schema_editor):
    sql = f"INSERT INTO settlements_usageday ({COLUMNS}) " + SUMS.format(
        src="settlements_usagerecord", where="WHERE r.tenant_id = %s"
    )
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('app.tenant_id', true)")
        active = cursor.fetchone()[0] or ""
        cursor.execute("SELECT id FROM tenancy_tenant ORDER BY id")
        for (tenant_id,) in cursor.fetchall():
            cursor.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant_id)])
            cursor.execute(sql, [tenant_id])
        cursor.execute("SELECT set_config('app.tenant_id', %s, true)", [active])


class Migration(migrations.Migration):
    dependencies = [
        ("partners", "0002_agreements_review"),
        ("settlements", "0008_statement_composite_keys_only"),
        ("tenancy", "0003_tenant_address"),
    ]

    operations = [
        migrations.CreateModel(
            name="UsageDay",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField()),
                ("product_code", models.CharField(max_length=60)),
                ("currency", models.CharField(max_length=3)),
                ("record_count", models.BigIntegerField()),
                ("quantity", models.DecimalField(decimal_places=6, max_digits=32)),
                ("gross_amount", models.DecimalField(decimal_places=6, max_digits=32)),
                ("tax_amount", models.DecimalField(decimal_places=6, max_digits=32)),
                (
                    "partner",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="partners.partner",
                    ),
                ),
                (
                    "tenant",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        editable=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="tenancy.tenant",
                    ),
                ),
                (
                    "usage_import",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="settlements.usageimport",
                    ),
                ),
            ],
            options={
                "ordering": ["day", "partner", "product_code", "currency"],
                "indexes": [models.Index(fields=["tenant", "day"], name="usageday_tenant_day")],
                "constraints": [
                    models.UniqueConstraint(
                        fields=(
                            "tenant",
                            "partner",
                            "day",
                            "product_code",
                            "currency",
                            "usage_import",
                        ),
                        name="usageday_key",
                        nulls_distinct=False,
                    )
                ],
            },
        ),
        migrations.RunSQL(FUNCTIONS_SQL, DROP_FUNCTIONS_SQL),
        migrations.RunPython(sum_existing_usage, migrations.RunPython.noop),
    ]
