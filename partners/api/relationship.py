"""API: relationship (mounted under /api/v1/ by partners/api/urls.py).

Interactions per partner, disputes for CSP staff and for partner users (portal), and the
caller's own notifications.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Count, QuerySet
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, URLResolver, path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from partnerhub.accounts.models import User
from partnerhub.accounts.roles import Perm
from partnerhub.core.api import ErrorSerializer, TenantPrimaryKeyRelatedField, TenantScopedViewSet
from partnerhub.tenancy.models import Membership
from partners.access import IsPortalUser, portal_partner
from partners.api.exporting import export_response, export_schema
from partners.models import (
    Agreement,
    Dispute,
    DisputeComment,
    DisputeStatus,
    Interaction,
    Notification,
    Partner,
)
from partners.selectors.relationship import (
    DISPUTE_EXPORT_COLUMNS,
    INTERACTION_EXPORT_COLUMNS,
    DisputeFilter,
    InteractionFilter,
    NotificationFilter,
    dispute_detail,
    dispute_export_rows,
    dispute_stage_durations,
    interaction_export_rows,
)
from partners.services import relationship as services
from partners.services.notifications import notifications_mark_read


def _user(request: Request) -> User:
    return request.user  # type: ignore[return-value]  # every endpoint here needs a sign-in


# --- interactions -----------------------------------------------------------------------------


class InteractionSerializer(serializers.ModelSerializer):
    logged_by = serializers.EmailField(source="logged_by.email", read_only=True, default=None)

    class Meta:
        model = Interaction
        fields = [
            "id",
            "partner",
            "kind",
            "occurred_on",
            "subject",
            "participants",
            "notes",
            "next_steps",
            "follow_up_on",
            "logged_by",
            "created_at",
        ]
        read_only_fields = ["id", "partner", "logged_by", "created_at"]


INTERACTION_EXAMPLE = {
    "id": 118,
    "partner": 42,
    "kind": "qbr",
    "occurred_on": "2026-11-20",
    "subject": "Q4 business review",
    "participants": "Max Manager, Jane Partner",
    "notes": "Video bundle subscribers up 12%; revenue share 48,300 EUR in October.",
    "next_steps": "Send the revised forecast.",
    "follow_up_on": "2026-12-04",
    "logged_by": "manager@demo.test",
    "created_at": "2026-11-20T15:02:11Z",
}


@extend_schema_view(
    list=extend_schema(
        summary="A partner's interaction log, newest first",
        examples=[OpenApiExample("A QBR", value=INTERACTION_EXAMPLE, response_only=True)],
    ),
    create=extend_schema(
        summary="Log an interaction (updates the partner's last contact)",
        responses={201: InteractionSerializer, 400: ErrorSerializer, 404: ErrorSerializer},
        examples=[
            OpenApiExample(
                "A QBR",
                value={
                    "kind": "qbr",
                    "occurred_on": "2026-11-20",
                    "subject": "Q4 business review",
                    "participants": "Max Manager, Jane Partner",
                    "notes": "Volumes up 12%.",
                    "next_steps": "Send the revised forecast.",
                    "follow_up_on": "2026-12-04",
                },
                request_only=True,
            )
        ],
    ),
)
class InteractionViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, TenantScopedViewSet):
    """Meetings, calls, emails and QBRs with one partner."""

    model = Interaction
    serializer_class = InteractionSerializer
    read_perm = Perm.PARTNERS_VIEW
    write_perm = Perm.PARTNERS_CHANGE
    filterset_class = InteractionFilter
    ordering_fields = ["occurred_on", "id"]
    ordering = ["-occurred_on", "-id"]
    search_fields = ["subject", "notes", "participants"]

    def partner(self) -> Partner:
        # Another tenant's partner id answers exactly like a missing one.
        return get_object_or_404(Partner.objects.all(), pk=self.kwargs["partner_pk"])

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if getattr(self, "swagger_fake_view", False):
            return queryset.none()
        return queryset.filter(partner=self.partner()).select_related("logged_by")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partner = self.partner()
        data = InteractionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        interaction = services.interaction_log(
            partner=partner, logged_by=_user(request), **data.validated_data
        )
        return Response(InteractionSerializer(interaction).data, status=status.HTTP_201_CREATED)

    @export_schema(
        summary="Export a partner's interaction log",
        description="The filtered log (same filters, search and ordering as the list) as CSV or "
        "XLSX.",
        example_csv=(
            "Date,Kind,Subject,Participants,Notes,Next steps,Follow-up,Logged by,Logged at\r\n"
            "2026-11-20,Quarterly business review,Q4 business review,"
            '"Max Manager, Jane Partner",Volumes up 12%.,Send the revised forecast.,2026-12-04,'
            "manager@demo.test,2026-11-20T15:02:11\r\n"
        ),
    )
    def export(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        return export_response(
            request,
            rows=interaction_export_rows(self.filter_queryset(self.get_queryset())),
            columns=INTERACTION_EXPORT_COLUMNS,
            name=f"interactions-partner-{self.partner().pk}",
        )


# --- disputes (CSP) ---------------------------------------------------------------------------


class AttachmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="original_name")
    content_type = serializers.CharField()
    size = serializers.IntegerField()


class DisputeCommentSerializer(serializers.ModelSerializer):
    author = serializers.SerializerMethodField()
    attachment = AttachmentSerializer(read_only=True, allow_null=True)

    class Meta:
        model = DisputeComment
        fields = ["id", "author", "from_partner", "body", "attachment", "created_at"]
        read_only_fields = fields

    def get_author(self, comment: DisputeComment) -> str | None:
        author = comment.author
        return (author.full_name or author.email) if author is not None else None


class StageTimesSerializer(serializers.Serializer):
    open_seconds = serializers.IntegerField()
    investigating_seconds = serializers.IntegerField(allow_null=True)
    total_seconds = serializers.IntegerField()


def _stage_times(dispute: Dispute) -> dict[str, int | None]:
    durations = dispute_stage_durations(dispute)
    return {
        f"{name}_seconds": int(value.total_seconds()) if value is not None else None
        for name, value in durations.items()
    }


class DisputeSerializer(serializers.ModelSerializer):
    partner_name = serializers.CharField(source="partner.display_name", read_only=True)
    owner: serializers.PrimaryKeyRelatedField = serializers.PrimaryKeyRelatedField(read_only=True)
    owner_email = serializers.EmailField(source="owner.email", read_only=True, default=None)
    raised_by = serializers.EmailField(source="raised_by.email", read_only=True, default=None)
    stage_times = serializers.SerializerMethodField()

    class Meta:
        model = Dispute
        fields = [
            "id",
            "partner",
            "partner_name",
            "category",
            "title",
            "description",
            "agreement",
            "owner",
            "owner_email",
            "status",
            "raised_by",
            "raised_by_partner",
            "resolution",
            "opened_at",
            "investigating_at",
            "closed_at",
            "stage_times",
        ]
        read_only_fields = fields

    @extend_schema_field(StageTimesSerializer)
    def get_stage_times(self, dispute: Dispute) -> dict[str, int | None]:
        return _stage_times(dispute)


class DisputeDetailSerializer(DisputeSerializer):
    comments = DisputeCommentSerializer(many=True, read_only=True)

    class Meta(DisputeSerializer.Meta):
        fields = [*DisputeSerializer.Meta.fields, "comments"]
        read_only_fields = fields


class TenantUserField(serializers.PrimaryKeyRelatedField):
    """A user id of a member of the active tenant; anyone else's answers 'does not exist'."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("queryset", User.objects.none())
        super().__init__(**kwargs)

    def get_queryset(self) -> QuerySet[Any]:
        return User.objects.filter(pk__in=Membership.objects.values("user_id"))


class DisputeCreateSerializer(serializers.Serializer):
    partner = TenantPrimaryKeyRelatedField(model=Partner)
    category = serializers.ChoiceField(choices=Dispute.Category.choices)
    title = serializers.CharField(max_length=200)
    description = serializers.CharField()
    agreement = TenantPrimaryKeyRelatedField(model=Agreement, required=False, allow_null=True)
    owner = TenantUserField(required=False, allow_null=True)


class DisputeCommentCreateSerializer(serializers.Serializer):
    body = serializers.CharField()
    attachment = serializers.FileField(required=False, allow_null=True)


class DisputeTransitionSerializer(serializers.Serializer):
    to_status = serializers.ChoiceField(choices=DisputeStatus.choices)
    resolution = serializers.CharField(required=False, allow_blank=True, default="")


class DisputeAssignSerializer(serializers.Serializer):
    owner = TenantUserField()


# --- examples ---

COMMENT_EXAMPLE = {
    "id": 204,
    "author": "Jane Partner",
    "from_partner": True,
    "body": "Our CDN logs show 1.2 M more streams on 14 and 15 October; report attached.",
    "attachment": {
        "id": 315,
        "name": "streamwave-cdn-report-october.pdf",
        "content_type": "application/pdf",
        "size": 214880,
    },
    "created_at": "2026-11-03T08:40:00Z",
}
PORTAL_DISPUTE_EXAMPLE = {
    "id": 7,
    "category": "settlement",
    "title": "October statement short by 1,200 EUR",
    "description": "The usage import missed two days of traffic.",
    "agreement": 31,
    "status": "investigating",
    "raised_by_partner": True,
    "resolution": "",
    "opened_at": "2026-11-02T09:14:00Z",
    "investigating_at": "2026-11-03T10:00:00Z",
    "closed_at": None,
    "stage_times": {
        "open_seconds": 89160,
        "investigating_seconds": 1753200,
        "total_seconds": 1842360,
    },
}
DISPUTE_EXAMPLE = {
    **PORTAL_DISPUTE_EXAMPLE,
    "partner": 42,
    "partner_name": "StreamWave",
    "owner": 2,
    "owner_email": "manager@demo.test",
    "raised_by": "jane.partner@streamwave.example",
}
DISPUTE_DETAIL_RESPONSE = OpenApiExample(
    "With its thread", value={**DISPUTE_EXAMPLE, "comments": [COMMENT_EXAMPLE]}, response_only=True
)
PORTAL_DISPUTE_DETAIL_RESPONSE = OpenApiExample(
    "With its thread",
    value={**PORTAL_DISPUTE_EXAMPLE, "comments": [COMMENT_EXAMPLE]},
    response_only=True,
)
COMMENT_REQUEST = OpenApiExample(
    "Reply", value={"body": COMMENT_EXAMPLE["body"]}, request_only=True
)
COMMENT_RESPONSE = OpenApiExample("Posted", value=COMMENT_EXAMPLE, response_only=True)


@extend_schema_view(
    list=extend_schema(
        summary="List disputes (filter by status, category, partner)",
        examples=[OpenApiExample("Investigating", value=DISPUTE_EXAMPLE, response_only=True)],
    ),
    retrieve=extend_schema(
        summary="One dispute with its comment thread",
        responses={200: DisputeDetailSerializer},
        examples=[DISPUTE_DETAIL_RESPONSE],
    ),
    create=extend_schema(
        summary="Open a dispute on behalf of the CSP",
        request=DisputeCreateSerializer,
        responses={201: DisputeDetailSerializer, 400: ErrorSerializer},
        examples=[
            OpenApiExample(
                "A settlement dispute",
                value={
                    "partner": 12,
                    "category": "settlement",
                    "title": "October statement short by 1,200 EUR",
                    "description": "The usage import missed two days of traffic.",
                },
                request_only=True,
            )
        ],
    ),
)
class DisputeViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    TenantScopedViewSet,
):
    """Disputes and cases with partners, for CSP staff."""

    model = Dispute
    serializer_class = DisputeSerializer
    read_perm = Perm.PARTNERS_VIEW
    write_perm = Perm.PARTNERS_CHANGE
    filterset_class = DisputeFilter
    ordering_fields = ["opened_at", "status", "id"]
    ordering = ["-opened_at", "-id"]
    search_fields = ["title", "description"]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("partner", "owner", "raised_by", "agreement")

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        dispute = self.get_object()
        return Response(DisputeDetailSerializer(dispute_detail(dispute.pk)).data)

    @export_schema(
        summary="Export disputes",
        description="The filtered list (same filters, search and ordering as the list) as CSV "
        "or XLSX, with the days each stage took.",
        example_csv=(
            "ID,Title,Partner,Category,Status,Raised by,Raised by partner,Owner,Agreement,Opened,"
            "Investigating since,Closed,Days open,Days investigating,Days in total,Comments,"
            "Resolution\r\n"
            "7,October statement short by 1,200 EUR,Nordic Resellers,Settlement,Investigating,"
            "partner@demo.test,yes,manager@demo.test,AG-2026-014,2026-11-02T09:14:00,"
            "2026-11-03T10:00:00,,1.0,20.3,21.3,4,\r\n"
        ),
    )
    @action(detail=False, methods=["get"], url_path="export")
    def export(self, request: Request) -> Any:
        disputes = self.filter_queryset(self.get_queryset()).annotate(
            comment_count=Count("comments")
        )
        return export_response(
            request,
            rows=dispute_export_rows(disputes),
            columns=DISPUTE_EXPORT_COLUMNS,
            name="disputes",
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = DisputeCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        dispute = services.dispute_open(
            partner=values["partner"],
            category=values["category"],
            title=values["title"],
            description=values["description"],
            agreement=values.get("agreement"),
            owner=values.get("owner"),
            raised_by=_user(request),
            by_partner=False,
        )
        return Response(
            DisputeDetailSerializer(dispute_detail(dispute.pk)).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        summary="Comment on a dispute (JSON, or multipart with an attachment)",
        request={
            "application/json": DisputeCommentCreateSerializer,
            "multipart/form-data": DisputeCommentCreateSerializer,
        },
        responses={201: DisputeCommentSerializer, 400: ErrorSerializer},
        examples=[
            OpenApiExample(
                "Ask for evidence",
                value={"body": "Please send the CDN logs for 14 and 15 October."},
                request_only=True,
            ),
            OpenApiExample(
                "Posted",
                value={
                    "id": 203,
                    "author": "Max Manager",
                    "from_partner": False,
                    "body": "Please send the CDN logs for 14 and 15 October.",
                    "attachment": None,
                    "created_at": "2026-11-03T10:02:00Z",
                },
                response_only=True,
            ),
        ],
    )
    @action(detail=True, methods=["post"])
    def comment(self, request: Request, pk: str | None = None) -> Response:
        dispute = self.get_object()
        data = DisputeCommentCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        comment = services.dispute_comment_add(
            dispute=dispute,
            author=_user(request),
            body=data.validated_data["body"],
            from_partner=False,
            upload=data.validated_data.get("attachment"),
        )
        return Response(DisputeCommentSerializer(comment).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Move a dispute: open → investigating → resolved | rejected",
        request=DisputeTransitionSerializer,
        responses={200: DisputeDetailSerializer, 400: ErrorSerializer},
        examples=[
            OpenApiExample(
                "Resolve",
                value={"to_status": "resolved", "resolution": "Credit note issued."},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: str | None = None) -> Response:
        dispute = self.get_object()
        data = DisputeTransitionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.dispute_transition(
            dispute=dispute,
            to_status=data.validated_data["to_status"],
            resolution=data.validated_data["resolution"],
            actor=_user(request),
        )
        return Response(DisputeDetailSerializer(dispute_detail(dispute.pk)).data)

    @extend_schema(
        summary="Assign the dispute to an admin or partner manager",
        request=DisputeAssignSerializer,
        responses={200: DisputeDetailSerializer, 400: ErrorSerializer},
        examples=[
            OpenApiExample("To a partner manager", value={"owner": 2}, request_only=True),
            DISPUTE_DETAIL_RESPONSE,
        ],
    )
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, pk: str | None = None) -> Response:
        dispute = self.get_object()
        data = DisputeAssignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.dispute_assign(
            dispute=dispute, owner=data.validated_data["owner"], actor=_user(request)
        )
        return Response(DisputeDetailSerializer(dispute_detail(dispute.pk)).data)


# --- disputes (portal) ------------------------------------------------------------------------


class PortalDisputeSerializer(serializers.ModelSerializer):
    stage_times = serializers.SerializerMethodField()

    class Meta:
        model = Dispute
        fields = [
            "id",
            "category",
            "title",
            "description",
            "agreement",
            "status",
            "raised_by_partner",
            "resolution",
            "opened_at",
            "investigating_at",
            "closed_at",
            "stage_times",
        ]
        read_only_fields = fields

    @extend_schema_field(StageTimesSerializer)
    def get_stage_times(self, dispute: Dispute) -> dict[str, int | None]:
        return _stage_times(dispute)


class PortalDisputeDetailSerializer(PortalDisputeSerializer):
    comments = DisputeCommentSerializer(many=True, read_only=True)

    class Meta(PortalDisputeSerializer.Meta):
        fields = [*PortalDisputeSerializer.Meta.fields, "comments"]
        read_only_fields = fields


@extend_schema_field(OpenApiTypes.INT)
class PortalAgreementField(serializers.PrimaryKeyRelatedField):
    """Only agreements of the caller's own partner; any other id answers 'does not exist'."""

    def get_queryset(self) -> QuerySet[Any]:
        request = self.context.get("request")
        partner = portal_partner(request) if request is not None else None
        if partner is None:
            return Agreement._base_manager.none()
        return Agreement.objects.filter(partner=partner)


class PortalDisputeCreateSerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=Dispute.Category.choices)
    title = serializers.CharField(max_length=200)
    description = serializers.CharField()
    agreement = PortalAgreementField(required=False, allow_null=True)


class PortalDisputeFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=DisputeStatus.choices)
    category = django_filters.ChoiceFilter(choices=Dispute.Category.choices)

    class Meta:
        model = Dispute
        fields = ["status", "category"]


@extend_schema_view(
    list=extend_schema(
        summary="Your partner's disputes",
        tags=["portal"],
        examples=[
            OpenApiExample("Investigating", value=PORTAL_DISPUTE_EXAMPLE, response_only=True)
        ],
    ),
    retrieve=extend_schema(
        summary="One of your disputes with its comments",
        responses={200: PortalDisputeDetailSerializer},
        tags=["portal"],
        examples=[PORTAL_DISPUTE_DETAIL_RESPONSE],
    ),
    create=extend_schema(
        summary="Raise a dispute",
        request=PortalDisputeCreateSerializer,
        responses={201: PortalDisputeDetailSerializer, 400: ErrorSerializer},
        tags=["portal"],
        examples=[
            OpenApiExample(
                "A billing dispute",
                value={
                    "category": "billing",
                    "title": "Invoice 2026-10 charged twice",
                    "description": "The October platform fee appears twice.",
                },
                request_only=True,
            )
        ],
    ),
)
class PortalDisputeViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    TenantScopedViewSet,
):
    """Disputes of the caller's own partner (partner users only)."""

    model = Dispute
    serializer_class = PortalDisputeSerializer
    permission_classes = [IsPortalUser]
    filterset_class = PortalDisputeFilter
    ordering_fields = ["opened_at", "status", "id"]
    ordering = ["-opened_at", "-id"]
    search_fields = ["title", "description"]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        partner = portal_partner(self.request)
        if partner is None:
            return queryset.none()
        return queryset.filter(partner=partner)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        dispute = self.get_object()
        return Response(PortalDisputeDetailSerializer(dispute_detail(dispute.pk)).data)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partner = portal_partner(request)
        assert partner is not None  # IsPortalUser
        data = PortalDisputeCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        dispute = services.dispute_open(
            partner=partner, raised_by=_user(request), by_partner=True, **data.validated_data
        )
        return Response(
            PortalDisputeDetailSerializer(dispute_detail(dispute.pk)).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        summary="Reply on one of your disputes (JSON, or multipart with an attachment)",
        request={
            "application/json": DisputeCommentCreateSerializer,
            "multipart/form-data": DisputeCommentCreateSerializer,
        },
        responses={201: DisputeCommentSerializer, 400: ErrorSerializer},
        tags=["portal"],
        examples=[COMMENT_REQUEST, COMMENT_RESPONSE],
    )
    @action(detail=True, methods=["post"])
    def comment(self, request: Request, pk: str | None = None) -> Response:
        dispute = self.get_object()
        data = DisputeCommentCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        comment = services.dispute_comment_add(
            dispute=dispute,
            author=_user(request),
            body=data.validated_data["body"],
            from_partner=True,
            upload=data.validated_data.get("attachment"),
        )
        return Response(DisputeCommentSerializer(comment).data, status=status.HTTP_201_CREATED)


# --- notifications ----------------------------------------------------------------------------


class IsTenantMember(BasePermission):
    """Any role of the active tenant: everyone has an inbox of their own."""

    def has_permission(self, request: Any, view: Any) -> bool:
        return bool(
            request.user
            and request.user.is_authenticated
            and getattr(request, "membership", None) is not None
        )


class NotificationSerializer(serializers.ModelSerializer):
    partner_name = serializers.CharField(
        source="partner.display_name", read_only=True, default=None
    )

    class Meta:
        model = Notification
        fields = [
            "id",
            "kind",
            "title",
            "body",
            "url",
            "partner",
            "partner_name",
            "is_task",
            "due_on",
            "created_at",
            "read_at",
        ]
        read_only_fields = fields


class NotificationReadSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(), required=False, help_text="Omit to mark all read."
    )


class MarkedSerializer(serializers.Serializer):
    marked = serializers.IntegerField()
    unread = serializers.IntegerField()


NOTIFICATION_EXAMPLE = {
    "id": 561,
    "kind": "change_requested",
    "title": "StreamWave asks to change its bank details",
    "body": "The change applies once approved on the partner's page.",
    "url": "/partners/42/",
    "partner": 42,
    "partner_name": "StreamWave",
    "is_task": False,
    "due_on": None,
    "created_at": "2026-11-21T10:05:00Z",
    "read_at": None,
}


@extend_schema_view(
    list=extend_schema(
        summary="Your notifications and tasks, newest first",
        examples=[
            OpenApiExample("Change requested", value=NOTIFICATION_EXAMPLE, response_only=True)
        ],
    )
)
class NotificationViewSet(mixins.ListModelMixin, TenantScopedViewSet):
    """The caller's own inbox: never anyone else's rows."""

    model = Notification
    serializer_class = NotificationSerializer
    permission_classes = [IsTenantMember]
    filterset_class = NotificationFilter
    ordering_fields = ["created_at", "due_on", "id"]
    ordering = ["-created_at", "-id"]
    search_fields: list[str] = []

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if getattr(self, "swagger_fake_view", False):
            return queryset.none()
        return queryset.filter(user=self.request.user).select_related("partner")

    @extend_schema(
        summary="Mark notifications read (the given ids, or all)",
        request=NotificationReadSerializer,
        responses={200: MarkedSerializer},
        examples=[
            OpenApiExample("Some", value={"ids": [561, 562]}, request_only=True),
            OpenApiExample("All", value={}, request_only=True),
            OpenApiExample("Marked", value={"marked": 2, "unread": 5}, response_only=True),
        ],
    )
    @action(detail=False, methods=["post"])
    def read(self, request: Request) -> Response:
        data = NotificationReadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        marked = notifications_mark_read(user=_user(request), ids=data.validated_data.get("ids"))
        unread = self.get_queryset().filter(read_at__isnull=True).count()
        return Response({"marked": marked, "unread": unread})


router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("disputes", DisputeViewSet, basename="dispute")
router.register("portal/disputes", PortalDisputeViewSet, basename="portal-dispute")
router.register("notifications", NotificationViewSet, basename="notification")

interactions = InteractionViewSet.as_view({"get": "list", "post": "create"})
interactions_export = InteractionViewSet.as_view({"get": "export"})

urlpatterns: list[URLPattern | URLResolver] = [
    path("partners/<int:partner_pk>/interactions/", interactions, name="partner-interaction-list"),
    path(
        "partners/<int:partner_pk>/interactions/export/",
        interactions_export,
        name="partner-interaction-export",
    ),
    *router.urls,
]
