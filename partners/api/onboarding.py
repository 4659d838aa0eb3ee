"""API: onboarding (mounted under /api/v1/ by partners/api/urls.py).

Workflow endpoints (transitions, checklist steps, risk assessments) translate HTTP to one call
of ``partners.services.onboarding``; the checklist templates are plain CRUD over the same
services. Reads need ``partners.view``, writes ``partners.change``.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.urls import URLPattern, URLResolver, path
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.views import APIView

from partnerhub.accounts.models import User
from partnerhub.accounts.roles import Perm
from partnerhub.core.api import ErrorSerializer, TenantPrimaryKeyRelatedField, TenantScopedViewSet
from partners.api.examples import NOT_FOUND_EXAMPLE
from partners.api.exporting import export_response, export_schema
from partners.models import (
    ChecklistKind,
    ChecklistStep,
    ChecklistTemplateItem,
    Document,
    Partner,
    PartnerStatus,
    PartnerType,
    RiskAssessment,
    RiskLevel,
    StatusTransition,
)
from partners.models.onboarding import Party
from partners.selectors.onboarding import (
    PIPELINE_EXPORT_COLUMNS,
    PipelineFilter,
    days_in_stage,
    onboarding_funnel,
    partner_checklist,
    partner_risk_assessments,
    partner_transition_history,
    pipeline_export_rows,
    pipeline_partners,
)
from partners.services import onboarding as services
from partners.services.onboarding import RISK_CATEGORIES, RISK_CATEGORY_LABELS

ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid input or a rule of the lifecycle"),
    403: OpenApiResponse(ErrorSerializer, description="Your role does not allow this"),
    404: OpenApiResponse(ErrorSerializer, description="No such object in your tenant"),
}
READ_ERRORS = {403: ERRORS[403], 404: ERRORS[404]}


def _actor(request: Request) -> User | None:
    return request.user if isinstance(request.user, User) else None


# --- Serializers --------------------------------------------------------------------------------


class OnboardingTransitionSerializer(serializers.ModelSerializer):
    actor = serializers.EmailField(source="actor.email", read_only=True, allow_null=True)
    days_in_stage = serializers.DecimalField(
        max_digits=8,
        decimal_places=1,
        read_only=True,
        required=False,
        help_text="Days the partner spent in `to_status` (so far, for the current status).",
    )

    class Meta:
        model = StatusTransition
        fields = ["id", "partner", "from_status", "to_status", "actor", "comment", "at"]
        fields += ["days_in_stage"]
        read_only_fields = fields


class OnboardingTransitionRequestSerializer(serializers.Serializer):
    to_status = serializers.ChoiceField(choices=PartnerStatus.choices)
    comment = serializers.CharField(required=False, allow_blank=True, default="")
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Required when `to_status` is `rejected`; stored as the rejection reason.",
    )


class OnboardingStepSerializer(serializers.ModelSerializer):
    completed_by = serializers.EmailField(
        source="completed_by.email", read_only=True, allow_null=True
    )

    class Meta:
        model = ChecklistStep
        fields = [
            "id",
            "partner",
            "kind",
            "key",
            "title",
            "description",
            "mandatory",
            "completed_by_party",
            "evidence",
            "position",
            "state",
            "note",
            "document",
            "completed_by",
            "completed_at",
        ]
        read_only_fields = fields


class OnboardingStepCompleteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")
    document = TenantPrimaryKeyRelatedField(
        model=Document,
        required=False,
        allow_null=True,
        default=None,
        help_text="Id of a document of the same partner (steps whose evidence is `document`).",
    )


class OnboardingStepCommentSerializer(serializers.Serializer):
    comment = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Why (reopen), or why the step is not needed (waive; required for mandatory "
        "steps, which only tenant admins may waive).",
    )


class RiskAnswersSerializer(serializers.Serializer):
    financial_position = serializers.IntegerField(min_value=1, max_value=5)
    track_record = serializers.IntegerField(min_value=1, max_value=5)
    compliance = serializers.IntegerField(min_value=1, max_value=5)
    security = serializers.IntegerField(min_value=1, max_value=5)
    strategic_fit = serializers.IntegerField(min_value=1, max_value=5)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(RISK_CATEGORIES))
            if unknown:
                raise serializers.ValidationError(f"Unknown categories: {', '.join(unknown)}.")
        return super().to_internal_value(data)


class RiskAssessmentRequestSerializer(serializers.Serializer):
    answers = RiskAnswersSerializer(
        help_text="Each category scored from 1 (lowest risk) to 5 (highest risk): "
        + ", ".join(f"`{c}` ({RISK_CATEGORY_LABELS[c]})" for c in RISK_CATEGORIES)
        + "."
    )
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class RiskAssessmentSerializer(serializers.ModelSerializer):
    answers = RiskAnswersSerializer(read_only=True)
    risk_level = serializers.ChoiceField(choices=RiskLevel.choices, read_only=True)
    assessed_by = serializers.EmailField(
        source="assessed_by.email", read_only=True, allow_null=True
    )

    class Meta:
        model = RiskAssessment
        fields = ["id", "partner", "answers", "score", "risk_level", "notes"]
        fields += ["assessed_by", "assessed_at"]
        read_only_fields = fields


class ChecklistTemplateItemSerializer(serializers.ModelSerializer):
    partner_type = TenantPrimaryKeyRelatedField(
        model=PartnerType,
        required=False,
        allow_null=True,
        default=None,
        help_text="A partner type's own step; null for a step of every type.",
    )
    key = serializers.SlugField(
        max_length=60,
        required=False,
        allow_blank=True,
        default="",
        help_text="Made from the title when empty.",
    )
    position = serializers.IntegerField(
        min_value=0, max_value=32767, required=False, help_text="Last of its list by default."
    )

    class Meta:
        model = ChecklistTemplateItem
        fields = [
            "id",
            "kind",
            "partner_type",
            "key",
            "title",
            "description",
            "mandatory",
            "completed_by",
            "evidence",
            "position",
        ]
        read_only_fields = ["id"]


class OnboardingFunnelStageSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=PartnerStatus.choices)
    label = serializers.CharField()  # type: ignore[assignment]  # the field is named "label"
    count = serializers.IntegerField(help_text="Partners in this status now.")
    median_days = serializers.DecimalField(
        max_digits=8,
        decimal_places=1,
        allow_null=True,
        help_text="Median days partners spent in this status before moving on (null: nobody "
        "has left it yet).",
    )
    stays = serializers.IntegerField(help_text="Completed stays the median is computed from.")


class OnboardingFunnelSerializer(serializers.Serializer):
    stages = OnboardingFunnelStageSerializer(many=True)


# --- Examples -----------------------------------------------------------------------------------

TRANSITION_EXAMPLE = {
    "id": 311,
    "partner": 42,
    "from_status": "vetting",
    "to_status": "due_diligence",
    "actor": "manager@demo.test",
    "comment": "Company documents check out.",
    "at": "2026-11-20T09:30:00Z",
    "days_in_stage": "0.0",
}
STEP_EXAMPLE = {
    "id": 1201,
    "partner": 42,
    "kind": "onboarding",
    "key": "api_credentials",
    "title": "API credentials issued",
    "description": "",
    "mandatory": True,
    "completed_by_party": "csp",
    "evidence": "note",
    "position": 101,
    "state": "done",
    "note": "Sandbox and production keys sent to the partner's CTO.",
    "document": None,
    "completed_by": "manager@demo.test",
    "completed_at": "2026-11-21T14:02:00Z",
}
ANSWERS_EXAMPLE = {
    "financial_position": 2,
    "track_record": 3,
    "compliance": 2,
    "security": 4,
    "strategic_fit": 1,
}
RISK_EXAMPLE = {
    "id": 77,
    "partner": 42,
    "answers": ANSWERS_EXAMPLE,
    "score": "2.55",
    "risk_level": "medium",
    "notes": "Pen test findings to be closed before integration.",
    "assessed_by": "manager@demo.test",
    "assessed_at": "2026-11-19T11:00:00Z",
}
TEMPLATE_EXAMPLE = {
    "kind": "onboarding",
    "partner_type": 4,
    "key": "content_rating",
    "title": "Content rating certificate",
    "description": "Age ratings for every title in the catalogue.",
    "mandatory": True,
    "completed_by": "partner",
    "evidence": "document",
}
TEMPLATE_REQUEST = OpenApiExample("Content rating", value=TEMPLATE_EXAMPLE, request_only=True)
TEMPLATE_RESPONSE = OpenApiExample(
    "Content rating", value={"id": 58, **TEMPLATE_EXAMPLE, "position": 105}, response_only=True
)


# --- Views --------------------------------------------------------------------------------------


@extend_schema(tags=["onboarding"])
class OnboardingPartnerViewSet(TenantScopedViewSet):
    """A partner's lifecycle: history and transitions, checklist, risk assessments."""

    model = Partner
    serializer_class = OnboardingTransitionSerializer
    read_perm = Perm.PARTNERS_VIEW
    write_perm = Perm.PARTNERS_CHANGE
    pagination_class = None  # per-partner lists are short; returned whole
    filter_backends: list[Any] = []
    lookup_value_regex = r"\d+"

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("account_owner")

    @extend_schema(
        methods=["GET"],
        summary="A partner's lifecycle history",
        responses={200: OnboardingTransitionSerializer(many=True), **READ_ERRORS},
        examples=[
            OpenApiExample("History", value=TRANSITION_EXAMPLE, response_only=True),
        ],
    )
    @extend_schema(
        methods=["POST"],
        summary="Move a partner to another status",
        description=(
            "Only the lifecycle's transitions are allowed: applied → vetting → due_diligence → "
            "contracting → integration → active; rejected (with a reason) from any stage "
            "before active; active ⇄ suspended; active or suspended → offboarding → exited. "
            "`active` needs every mandatory onboarding step done or waived, `exited` every "
            "mandatory offboarding step. A refused transition changes nothing."
        ),
        request=OnboardingTransitionRequestSerializer,
        responses={201: OnboardingTransitionSerializer, **ERRORS},
        examples=[
            OpenApiExample(
                "Start due diligence",
                value={"to_status": "due_diligence", "comment": "Company documents check out."},
                request_only=True,
            ),
            OpenApiExample(
                "Reject",
                value={"to_status": "rejected", "reason": "No licence for our markets."},
                request_only=True,
            ),
            OpenApiExample("Recorded", value=TRANSITION_EXAMPLE, response_only=True),
            OpenApiExample(
                "Refused",
                value={
                    "error": {
                        "status": 400,
                        "code": "invalid",
                        "message": "The request has invalid fields.",
                        "details": {
                            "to_status": [
                                "A partner cannot go from 'Integration' to 'Active' before "
                                "every mandatory onboarding step is done or waived. Missing: "
                                "'Tax form'."
                            ]
                        },
                    }
                },
                response_only=True,
                status_codes=["400"],
            ),
        ],
    )
    @action(detail=True, methods=["get", "post"], url_path="transitions")
    def transitions(self, request: Request, pk: str | None = None) -> Response:
        partner = self.get_object()
        if request.method == "GET":
            history = partner_transition_history(partner=partner)
            return Response(OnboardingTransitionSerializer(history, many=True).data)
        data = OnboardingTransitionRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        transition = services.partner_transition(
            partner=partner, actor=_actor(request), **data.validated_data
        )
        transition.days_in_stage = 0  # type: ignore[attr-defined]
        return Response(
            OnboardingTransitionSerializer(transition).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        summary="A partner's checklist steps",
        parameters=[
            OpenApiParameter(
                "kind", enum=ChecklistKind.values, description="Only onboarding or offboarding."
            )
        ],
        responses={200: OnboardingStepSerializer(many=True), **READ_ERRORS},
        examples=[OpenApiExample("Checklist", value=STEP_EXAMPLE, response_only=True)],
    )
    @action(detail=True, methods=["get"], url_path="checklist")
    def checklist(self, request: Request, pk: str | None = None) -> Response:
        partner = self.get_object()
        kind = request.query_params.get("kind")
        if kind is not None and kind not in ChecklistKind.values:
            raise serializers.ValidationError({"kind": ["Use 'onboarding' or 'offboarding'."]})
        steps = partner_checklist(partner=partner, kind=kind)
        return Response(OnboardingStepSerializer(steps, many=True).data)

    @extend_schema(
        methods=["GET"],
        summary="A partner's risk assessments, latest first",
        responses={200: RiskAssessmentSerializer(many=True), **READ_ERRORS},
        examples=[OpenApiExample("Assessments", value=RISK_EXAMPLE, response_only=True)],
    )
    @extend_schema(
        methods=["POST"],
        summary="Record a due-diligence risk assessment",
        description=(
            "Allowed from due diligence until integration. The weighted score (1.00 to 5.00) "
            "gives the level: below 2 low, below 3 medium, below 4 high, else critical; a 5 in "
            "financial position, compliance or security makes it at least high. Sets the "
            "partner's risk level and completes its `risk_assessment` checklist step."
        ),
        request=RiskAssessmentRequestSerializer,
        responses={201: RiskAssessmentSerializer, **ERRORS},
        examples=[
            OpenApiExample(
                "Questionnaire",
                value={"answers": ANSWERS_EXAMPLE, "notes": "Pen test findings open."},
                request_only=True,
            ),
            OpenApiExample("Recorded", value=RISK_EXAMPLE, response_only=True),
        ],
    )
    @action(detail=True, methods=["get", "post"], url_path="risk-assessments")
    def risk_assessments(self, request: Request, pk: str | None = None) -> Response:
        partner = self.get_object()
        if request.method == "GET":
            assessments = partner_risk_assessments(partner=partner)
            return Response(RiskAssessmentSerializer(assessments, many=True).data)
        data = RiskAssessmentRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        assessment = services.risk_assessment_record(
            partner=partner,
            answers=dict(data.validated_data["answers"]),
            notes=data.validated_data["notes"],
            actor=_actor(request),
        )
        return Response(RiskAssessmentSerializer(assessment).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["onboarding"])
@extend_schema_view(
    retrieve=extend_schema(
        summary="One checklist step",
        responses={200: OnboardingStepSerializer, **READ_ERRORS},
        examples=[OpenApiExample("Done", value=STEP_EXAMPLE, response_only=True)],
    )
)
class ChecklistStepViewSet(mixins.RetrieveModelMixin, TenantScopedViewSet):
    """Checklist steps of partners: complete, reopen or waive them as CSP staff."""

    model = ChecklistStep
    serializer_class = OnboardingStepSerializer
    read_perm = Perm.PARTNERS_VIEW
    write_perm = Perm.PARTNERS_CHANGE
    filter_backends: list[Any] = []
    lookup_value_regex = r"\d+"

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("document", "completed_by")

    def _answer(self, step: ChecklistStep) -> Response:
        step = self.get_queryset().get(pk=step.pk)
        return Response(OnboardingStepSerializer(step).data)

    @extend_schema(
        summary="Complete a step (CSP staff)",
        description=(
            "Steps the partner must complete (`completed_by_party` = `partner`) are refused. "
            "Evidence `note` needs a non-empty note, evidence `document` a document of the "
            "same partner."
        ),
        request=OnboardingStepCompleteSerializer,
        responses={200: OnboardingStepSerializer, **ERRORS},
        examples=[
            OpenApiExample(
                "With a note",
                value={"note": "Sandbox and production keys sent to the partner's CTO."},
                request_only=True,
            ),
            OpenApiExample("With a document", value={"document": 310}, request_only=True),
            OpenApiExample("Completed", value=STEP_EXAMPLE, response_only=True),
        ],
    )
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk: str | None = None) -> Response:
        step = self.get_object()
        data = OnboardingStepCompleteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.checklist_step_complete(
            step=step, actor=_actor(request), party=Party.CSP, **data.validated_data
        )
        return self._answer(step)

    @extend_schema(
        summary="Reopen a done or waived step",
        request=OnboardingStepCommentSerializer,
        responses={200: OnboardingStepSerializer, **ERRORS},
        examples=[
            OpenApiExample(
                "Reopen", value={"comment": "The tax form has expired."}, request_only=True
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, pk: str | None = None) -> Response:
        step = self.get_object()
        data = OnboardingStepCommentSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.checklist_step_reopen(step=step, actor=_actor(request), **data.validated_data)
        return self._answer(step)

    @extend_schema(
        summary="Waive a step",
        description=(
            "Optional steps: any partner manager. Mandatory steps: only tenant admins, with a "
            "comment saying why."
        ),
        request=OnboardingStepCommentSerializer,
        responses={200: OnboardingStepSerializer, **ERRORS},
        examples=[
            OpenApiExample(
                "Waive",
                value={"comment": "The partner sells online only: no point-of-sale systems."},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def waive(self, request: Request, pk: str | None = None) -> Response:
        step = self.get_object()
        data = OnboardingStepCommentSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.checklist_step_waive(step=step, actor=_actor(request), **data.validated_data)
        return self._answer(step)


class ChecklistTemplateItemFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=ChecklistKind.choices)
    partner_type = django_filters.NumberFilter(
        field_name="partner_type_id", label="Partner type id (its own steps only)"
    )
    common = django_filters.BooleanFilter(
        field_name="partner_type", lookup_expr="isnull", label="Steps of every partner type"
    )

    class Meta:
        model = ChecklistTemplateItem
        fields = ["kind", "partner_type", "common"]


@extend_schema(tags=["onboarding"])
@extend_schema_view(
    list=extend_schema(summary="Checklist template steps", examples=[TEMPLATE_RESPONSE]),
    retrieve=extend_schema(
        summary="One checklist template step",
        responses={200: ChecklistTemplateItemSerializer, **READ_ERRORS},
        examples=[TEMPLATE_RESPONSE],
    ),
    create=extend_schema(
        summary="Add a checklist template step",
        responses={201: ChecklistTemplateItemSerializer, **ERRORS},
        examples=[TEMPLATE_REQUEST, TEMPLATE_RESPONSE],
    ),
    update=extend_schema(
        responses={200: ChecklistTemplateItemSerializer, **ERRORS},
        examples=[
            TEMPLATE_REQUEST,
            TEMPLATE_RESPONSE,
        ],
    ),
    partial_update=extend_schema(
        responses={200: ChecklistTemplateItemSerializer, **ERRORS},
        examples=[OpenApiExample("Make optional", value={"mandatory": False}, request_only=True)],
    ),
    destroy=extend_schema(responses={204: None, **READ_ERRORS}, examples=[NOT_FOUND_EXAMPLE]),
)
class ChecklistTemplateItemViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    TenantScopedViewSet,
):
    """The tenant's checklist templates per kind and partner type. Changes apply to checklists
    created afterwards; partners keep the checklist they got."""

    model = ChecklistTemplateItem
    serializer_class = ChecklistTemplateItemSerializer
    read_perm = Perm.PARTNERS_VIEW
    write_perm = Perm.PARTNERS_CHANGE
    filterset_class = ChecklistTemplateItemFilter
    ordering_fields = ["position", "title", "key"]
    search_fields = ["title", "key", "description"]
    lookup_value_regex = r"\d+"

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("partner_type").order_by("kind", "position", "id")

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = services.checklist_template_item_create(**serializer.validated_data)

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        assert serializer.instance is not None
        serializer.instance = services.checklist_template_item_update(
            item=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance: ChecklistTemplateItem) -> None:
        services.checklist_template_item_delete(item=instance)


class OnboardingFunnelView(APIView):
    """How many partners are at each stage and the median days each stage takes."""

    read_perm = Perm.PARTNERS_VIEW

    @extend_schema(
        tags=["onboarding"],
        summary="Onboarding funnel",
        responses={200: OnboardingFunnelSerializer, 403: ERRORS[403]},
        examples=[
            OpenApiExample(
                "Funnel",
                value={
                    "stages": [
                        {
                            "status": "applied",
                            "label": "Applied",
                            "count": 4,
                            "median_days": "3.5",
                            "stays": 31,
                        },
                        {
                            "status": "vetting",
                            "label": "Vetting",
                            "count": 3,
                            "median_days": "6.0",
                            "stays": 28,
                        },
                    ]
                },
                response_only=True,
            )
        ],
    )
    def get(self, request: Request) -> Response:
        stages = onboarding_funnel()
        return Response(OnboardingFunnelSerializer({"stages": stages}).data)


class PipelinePartnerSerializer(serializers.ModelSerializer):
    partner_type = serializers.CharField(source="partner_type.name", read_only=True)
    account_owner = serializers.EmailField(
        source="account_owner.email", read_only=True, default=None
    )
    days_in_stage = serializers.SerializerMethodField()
    steps_done = serializers.IntegerField(read_only=True, help_text="Mandatory steps done.")
    steps_total = serializers.IntegerField(read_only=True, help_text="Mandatory steps.")

    class Meta:
        model = Partner
        fields = [
            "id",
            "legal_name",
            "trading_name",
            "partner_type",
            "status",
            "status_changed_at",
            "days_in_stage",
            "steps_done",
            "steps_total",
            "account_owner",
            "risk_level",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.DecimalField(max_digits=8, decimal_places=1))
    def get_days_in_stage(self, partner: Partner) -> Any:
        return str(days_in_stage(partner, now=self.context.get("now")))


@extend_schema_view(
    list=extend_schema(
        tags=["onboarding"],
        summary="Partners in the onboarding pipeline",
        description=(
            "The twin of the pipeline page: partners from `applied` to `integration`, longest "
            "waiting first, with their mandatory-step progress."
        ),
        examples=[
            OpenApiExample(
                "Pipeline",
                value={
                    "id": 17,
                    "legal_name": "NordTower Infrastructure AB",
                    "trading_name": "NordTower Infrastructure",
                    "partner_type": "Infrastructure provider",
                    "status": "due_diligence",
                    "status_changed_at": "2026-11-09T10:00:00Z",
                    "days_in_stage": "14.0",
                    "steps_done": 3,
                    "steps_total": 7,
                    "account_owner": "manager@demo.test",
                    "risk_level": "medium",
                },
                response_only=True,
            )
        ],
    )
)
class OnboardingPipelineViewSet(mixins.ListModelMixin, TenantScopedViewSet):
    """Partners on their way to active; filter by type, owner or your own, export."""

    model = Partner
    serializer_class = PipelinePartnerSerializer
    read_perm = Perm.PARTNERS_VIEW
    filterset_class = PipelineFilter
    ordering_fields: list[str] = []
    search_fields = ["legal_name", "trading_name"]

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return pipeline_partners(partners=queryset)

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "now": timezone.now()}

    @export_schema(
        summary="Export the onboarding pipeline",
        description="The filtered pipeline partners as CSV or XLSX.",
        example_csv=(
            "ID,Legal name,Trading name,Type,Stage,In stage since,Days in stage,"
            "Mandatory steps done,Mandatory steps,Account owner,Risk level\r\n"
            "17,NordTower Infrastructure AB,NordTower Infrastructure,Infrastructure provider,"
            "Due diligence,2026-11-09T10:00:00,14.0,3,7,manager@demo.test,Medium\r\n"
        ),
    )
    @action(detail=False, methods=["get"], url_path="export")
    def export(self, request: Request) -> Any:
        return export_response(
            request,
            rows=pipeline_export_rows(self.filter_queryset(self.get_queryset())),
            columns=PIPELINE_EXPORT_COLUMNS,
            name="onboarding-pipeline",
        )


router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("onboarding/pipeline", OnboardingPipelineViewSet, basename="onboarding-pipeline")
router.register("onboarding/partners", OnboardingPartnerViewSet, basename="onboarding-partner")
router.register("onboarding/steps", ChecklistStepViewSet, basename="onboarding-step")
router.register(
    "onboarding/checklist-templates",
    ChecklistTemplateItemViewSet,
    basename="onboarding-checklist-template",
)

urlpatterns: list[URLPattern | URLResolver] = [
    path("onboarding/funnel/", OnboardingFunnelView.as_view(), name="onboarding-funnel"),
    *router.urls,
]
