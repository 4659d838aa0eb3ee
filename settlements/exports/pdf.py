"""A statement as a PDF (reportlab): letterhead, partner, period, lines, adjustments, totals.

Text is drawn with the Bitstream Vera font shipped inside reportlab, so names in
any Latin script print; everything the user typed is escaped before it reaches reportlab's
paragraph markup.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

import reportlab
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from partnerhub.tenancy.models import Tenant
from settlements.engine import round_money
from settlements.exports.tables import line_rate
from settlements.models import Statement, StatementLine

FONT = "PartnerHubVera"
FONT_BOLD = "PartnerHubVeraBold"
# Lines a rule priced; the other kinds are shown as adjustments of the subtotal.
USAGE_KINDS = (StatementLine.Kind.RULE, StatementLine.Kind.LATE_USAGE)


@lru_cache(maxsize=1)
def _fonts() -> None:
    folder = Path(reportlab.__file__).parent / "fonts"
    pdfmetrics.registerFont(TTFont(FONT, str(folder / "Vera.ttf")))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(folder / "VeraBd.ttf")))


@lru_cache(maxsize=1)
def _styles() -> dict[str, ParagraphStyle]:
    _fonts()
    base = getSampleStyleSheet()
    body = ParagraphStyle("ph-body", parent=base["BodyText"], fontName=FONT, fontSize=9, leading=11)
    return {
        "body": body,
        "small": ParagraphStyle("ph-small", parent=body, fontSize=7, leading=9),
        "title": ParagraphStyle(
            "ph-title", parent=body, fontName=FONT_BOLD, fontSize=15, leading=19
        ),
        "h2": ParagraphStyle("ph-h2", parent=body, fontName=FONT_BOLD, fontSize=11, leading=15),
    }


def _p(text: object, style: str = "body") -> Paragraph:
    return Paragraph(escape(str(text)).replace("\n", "<br/>"), _styles()[style])


def _money(amount: object, currency: str) -> str:
    try:
        return f"{round_money(Decimal(str(amount)), currency):,} {currency}"
    except ValueError:
        return f"{amount} {currency}"


def _table(rows: Sequence[Sequence[object]], widths: list[float], numeric_from: int) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), FONT),
                ("FONTNAME", (0, 0), (-1, 0), FONT_BOLD),
                ("FONTSIZE", (0, 0), (-1, -1), 8),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e9ecef")),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#adb5bd")),
                ("ALIGN", (numeric_from, 0), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def statement_pdf(statement: Statement, *, tenant: Tenant) -> bytes:
    """The PDF of ``statement`` (partner, plan and lines loaded) as issued by ``tenant``."""
    partner = statement.partner
    currency = statement.currency
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=f"Statement {statement.month:%Y-%m} {partner.legal_name}",
        author=tenant.legal_name or tenant.name,
    )
    issuer = [tenant.legal_name or tenant.name, tenant.address]
    if tenant.tax_id:
        issuer.append(f"Tax ID {tenant.tax_id}")
    recipient = [partner.legal_name]
    if partner.trading_name and partner.trading_name != partner.legal_name:
        recipient.append(f"trading as {partner.trading_name}")
    if partner.registration_number:
        recipient.append(f"Registration {partner.registration_number}")
    if partner.tax_id:
        recipient.append(f"Tax ID {partner.tax_id}")
    recipient.append(f"Country {partner.country}")
    owed = (
        f"{partner.legal_name} owes {tenant.name}"
        if statement.direction == "receivable"
        else f"{tenant.name} owes {partner.legal_name}"
    )
    story: list[object] = [
        _p(f"Revenue-share statement {statement.month:%Y-%m}", "title"),
        Spacer(1, 4 * mm),
        Table(
            [
                [_p("\n".join(x for x in issuer if x)), _p("\n".join(recipient))],
            ],
            colWidths=[87 * mm, 87 * mm],
            style=[("VALIGN", (0, 0), (-1, -1), "TOP")],
        ),
        Spacer(1, 4 * mm),
        _p(
            f"Period: {statement.month:%Y-%m} · Status: {statement.get_status_display()} · "
            f"Direction: {statement.direction} · Currency: {currency} · "
            f"Plan: {statement.plan_version.plan.name} v{statement.plan_version.number} · "
            f"Statement #{statement.pk}"
        ),
        Spacer(1, 4 * mm),
    ]
    lines = list(statement.lines.all())
    usage_lines = [ln for ln in lines if ln.kind in USAGE_KINDS]
    adjustments = [ln for ln in lines if ln.kind not in USAGE_KINDS]
    story.append(_p("Lines", "h2"))
    rows: list[list[object]] = [
        ["#", "Description", "Product", "Basis", "Rate", "Records", "Amount"]
    ]
    for line in usage_lines:
        rule_type, rate, unit = line_rate(line)
        if rate is not None:
            rate_text = f"{(rate * 100).normalize():f} %"
        elif unit is not None:
            rate_text = f"{unit} / unit"
        else:
            rate_text = rule_type.replace("_", " ")
        rows.append(
            [
                line.position,
                _p(line.description, "small"),
                _p(line.product_code, "small"),
                _money(line.basis_amount, currency),
                rate_text,
                line.record_count,
                _money(line.amount, currency),
            ]
        )
    if len(rows) == 1:
        rows.append(["", "No usage lines", "", "", "", "", ""])
    story.append(
        _table(rows, [8 * mm, 58 * mm, 22 * mm, 28 * mm, 18 * mm, 14 * mm, 26 * mm], numeric_from=3)
    )
    story.append(Spacer(1, 4 * mm))
    story.append(_p("Adjustments", "h2"))
    adj_rows: list[list[object]] = [["#", "Kind", "Description", "Amount"]]
    for line in adjustments:
        adj_rows.append(
            [
                line.position,
                line.get_kind_display(),
                _p(line.description, "small"),
                _money(line.amount, currency),
            ]
        )
    if len(adj_rows) == 1:
        adj_rows.append(["", "None", "", ""])
    story.append(_table(adj_rows, [8 * mm, 36 * mm, 104 * mm, 26 * mm], numeric_from=3))
    story.append(Spacer(1, 5 * mm))
    totals = [
        ["Totals", ""],
        ["Settlement basis", _money(statement.basis_total, currency)],
        ["Partner share", _money(statement.partner_share, currency)],
        ["CSP share", _money(statement.csp_share, currency)],
        [owed, _money(statement.partner_share, currency)],
    ]
    story.append(_table(totals, [122 * mm, 52 * mm], numeric_from=1))
    story.append(Spacer(1, 6 * mm))
    story.append(_p(f"Content hash (SHA-256): {statement.content_hash or '—'}", "small"))
    story.append(
        _p(
            "Amounts are rounded to the currency's minor units; the lines' traces hold the exact "
            "figures.",
            "small",
        )
    )
    doc.build(story)
    return buffer.getvalue()


def statement_pdf_name(statement: Statement) -> str:
    """A file name for the statement's PDF: month, partner id and statement id, ASCII only."""
    return f"statement-{statement.month:%Y-%m}-partner{statement.partner_id}-{statement.pk}.pdf"
