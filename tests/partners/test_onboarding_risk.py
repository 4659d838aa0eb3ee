"""Risk assessment: the scoring table, its thresholds, and recording during due diligence."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from partners.models import ChecklistStep, PartnerStatus, RiskAssessment
from partners.services.onboarding import (
    RISK_CATEGORIES,
    RISK_WEIGHTS,
    onboarding_start,
    risk_assessment_record,
    risk_score,
)
from tests.partners.factories import PartnerFactory


def answers(fp: int, tr: int, co: int, se: int, sf: int) -> dict[str, int]:
    return dict(zip(RISK_CATEGORIES, (fp, tr, co, se, sf), strict=True))


def test_the_weights_sum_to_one_so_the_score_stays_between_1_and_5() -> None:
    assert sum(RISK_WEIGHTS.values()) == Decimal("1.00")
    assert set(RISK_WEIGHTS) == set(RISK_CATEGORIES)


@pytest.mark.parametrize(
    ("given", "score", "level"),
    [
        (answers(1, 1, 1, 1, 1), "1.00", "low"),
        (answers(1, 2, 1, 2, 3), "1.60", "low"),
        (answers(2, 2, 2, 2, 1), "1.90", "low"),
        (answers(2, 2, 2, 2, 2), "2.00", "medium"),  # thresholds are lower bounds
        (answers(2, 3, 2, 4, 1), "2.55", "medium"),
        (answers(3, 3, 3, 3, 2), "2.90", "medium"),
        (answers(3, 3, 3, 3, 3), "3.00", "high"),
        (answers(4, 4, 4, 4, 3), "3.90", "high"),
        (answers(4, 4, 4, 4, 4), "4.00", "critical"),
        (answers(5, 5, 5, 5, 5), "5.00", "critical"),
        # A red flag (5 in financial position, compliance or security) means at least high...
        (answers(1, 1, 1, 5, 1), "2.00", "high"),
        (answers(5, 1, 1, 1, 1), "2.00", "high"),
        (answers(1, 1, 5, 1, 1), "2.00", "high"),
        # ...a poor strategic fit or track record alone does not.
        (answers(1, 1, 1, 1, 5), "1.40", "low"),
        (answers(1, 5, 1, 1, 1), "1.60", "low"),
    ],
)
def test_risk_scoring_table(given, score, level) -> None:
    result = risk_score(given)
    assert result.score == Decimal(score)
    assert isinstance(result.score, Decimal)
    assert result.level == level


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({**answers(1, 1, 1, 1, 1), "security": 0}, "security must be from 1 to 5, not 0."),
        ({**answers(1, 1, 1, 1, 1), "security": 6}, "security must be from 1 to 5, not 6."),
        ({**answers(1, 1, 1, 1, 1), "compliance": "3"}, "compliance must be a whole number"),
        ({**answers(1, 1, 1, 1, 1), "compliance": 2.5}, "compliance must be a whole number"),
        ({**answers(1, 1, 1, 1, 1), "compliance": True}, "compliance must be a whole number"),
        ({"financial_position": 1}, "Missing categories: track_record, compliance, security"),
        ({**answers(1, 1, 1, 1, 1), "vibes": 3}, "Unknown categories: vibes."),
    ],
)
def test_bad_answers_are_refused_with_a_clear_message(given, message) -> None:
    with pytest.raises(ValidationError) as error:
        risk_score(given)
    assert message in " ".join(error.value.message_dict["answers"])


@pytest.mark.django_db
def test_recording_sets_the_partner_risk_level_and_ticks_the_checklist_step(
    personas, as_tenant_a
) -> None:
    partner = PartnerFactory(status=PartnerStatus.DUE_DILIGENCE)
    onboarding_start(partner=partner, actor=None)

    assessment = risk_assessment_record(
        partner=partner,
        answers=answers(2, 3, 2, 4, 1),
        notes="Pen test open.",
        actor=personas.a_manager,
    )

    assert (assessment.score, assessment.risk_level) == (Decimal("2.55"), "medium")
    assert assessment.assessed_by == personas.a_manager
    partner.refresh_from_db()
    assert partner.risk_level == "medium"
    step = ChecklistStep.objects.get(partner=partner, key="risk_assessment")
    assert step.state == ChecklistStep.State.DONE
    assert step.note == "Risk assessment: score 2.55, medium risk. Pen test open."
    assert step.completed_by == personas.a_manager

    # A later assessment replaces the level; the history keeps both.
    risk_assessment_record(
        partner=partner, answers=answers(1, 1, 1, 1, 1), notes="", actor=personas.a_manager
    )
    partner.refresh_from_db()
    assert partner.risk_level == "low"
    assert RiskAssessment.objects.filter(partner=partner).count() == 2


@pytest.mark.django_db
def test_risk_assessment_is_refused_before_due_diligence_and_after_onboarding(
    personas, as_tenant_a
) -> None:
    for status in (PartnerStatus.VETTING, PartnerStatus.ACTIVE, PartnerStatus.REJECTED):
        partner = PartnerFactory(status=status)
        with pytest.raises(ValidationError, match="from due diligence until integration"):
            risk_assessment_record(
                partner=partner, answers=answers(1, 1, 1, 1, 1), actor=personas.a_manager
            )
        partner.refresh_from_db()
        assert partner.risk_level == ""
        assert not RiskAssessment.objects.filter(partner=partner).exists()
