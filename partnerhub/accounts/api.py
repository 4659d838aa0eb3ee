"""Auth endpoints: obtain a token, list and revoke tokens, who am I."""

from __future__ import annotations

from typing import Any

import django_filters
from django.contrib.auth import authenticate
from django.db.models import QuerySet
from django_otp import devices_for_user
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from partnerhub.accounts import services
from partnerhub.accounts.models import ApiToken, User
from partnerhub.accounts.permissions import request_role
from partnerhub.accounts.roles import Perm, Role, role_has_perm
from partnerhub.accounts.selectors import membership_of
from partnerhub.core.api import ErrorSerializer, TenantScopedViewSet
from partnerhub.tenancy import context
from partnerhub.tenancy.models import Tenant


class TokenRequestSerializer(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(trim_whitespace=False, style={"input_type": "password"})
    tenant = serializers.SlugField(help_text="Slug of the tenant the token acts in.")
    otp = serializers.CharField(
        required=False, help_text="Current TOTP code, for users with two-factor authentication."
    )
    name = serializers.CharField(required=False, max_length=100, default="")


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()
    id = serializers.IntegerField()
    expires_at = serializers.DateTimeField()
    tenant = serializers.SlugField()
    role = serializers.ChoiceField(choices=Role.choices)


class TokenObtainView(APIView):
    """Exchange email, password and tenant for a bearer token (shown once)."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token"

    @extend_schema(
        request=TokenRequestSerializer,
        responses={201: TokenResponseSerializer, 400: ErrorSerializer},
        examples=[
            OpenApiExample(
                "Demo manager",
                value={
                    "email": "manager@demo.test",
                    "password": "partnerhub-demo",
                    "tenant": "demo",
                },
                request_only=True,
            )
        ],
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        data = TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        invalid = serializers.ValidationError(
            {"non_field_errors": ["Unknown email, wrong password, or no access to that tenant."]}
        )
        user = authenticate(request._request, username=values["email"], password=values["password"])
        if user is None:
            raise invalid
        devices = [d for d in devices_for_user(user, confirmed=True)]
        if devices and not any(d.verify_token(values.get("otp", "")) for d in devices):
            raise serializers.ValidationError({"otp": ["A valid two-factor code is required."]})
        tenant = Tenant.objects.filter(slug=values["tenant"], is_active=True).first()
        if tenant is None:
            raise invalid
        context.set_db_setting(context.USER_SETTING, user.pk)
        membership = membership_of(user=user, tenant_id=tenant.pk)
        if membership is None:
            raise invalid
        context.activate(tenant)
        request.user = user  # the audit trail records who created the token
        issued = services.api_token_create(user=user, name=values.get("name", ""))
        body = {
            "token": issued.raw,
            "id": issued.token.pk,
            "expires_at": issued.token.expires_at,
            "tenant": tenant.slug,
            "role": membership.role,
        }
        return Response(TokenResponseSerializer(body).data, status=status.HTTP_201_CREATED)


class ApiTokenSerializer(serializers.ModelSerializer):
    user = serializers.EmailField(source="user.email", read_only=True)

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "prefix",
            "user",
            "created_at",
            "expires_at",
            "last_used_at",
            "revoked_at",
        ]
        read_only_fields = fields


class ApiTokenFilter(django_filters.FilterSet):
    revoked = django_filters.BooleanFilter(method="filter_revoked", label="Revoked tokens only")

    class Meta:
        model = ApiToken
        fields = ["revoked"]

    def filter_revoked(self, queryset: QuerySet[Any], name: str, value: bool) -> QuerySet[Any]:
        return queryset.filter(revoked_at__isnull=not value)


@extend_schema(tags=["auth"])
class ApiTokenViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, TenantScopedViewSet
):
    """Your API tokens in this tenant (tenant admins see everyone's). DELETE revokes."""

    model = ApiToken
    serializer_class = ApiTokenSerializer
    read_perm = Perm.API_TOKENS_OWN
    write_perm = Perm.API_TOKENS_OWN
    filterset_class = ApiTokenFilter
    ordering_fields = ["created_at", "expires_at", "last_used_at"]

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        queryset = queryset.select_related("user")
        if not role_has_perm(request_role(self.request), Perm.TENANT_MANAGE):
            queryset = queryset.filter(user=self.request.user)
        return queryset

    def perform_destroy(self, instance: ApiToken) -> None:
        services.api_token_revoke(token=instance)


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    full_name = serializers.CharField()
    tenant = serializers.DictField()
    role = serializers.ChoiceField(choices=Role.choices)
    permissions = serializers.ListField(child=serializers.CharField())


class MeView(APIView):
    """The authenticated user, the active tenant and the role in it."""

    read_perm = Perm.DASHBOARD_VIEW

    @extend_schema(responses={200: MeSerializer}, tags=["auth"])
    def get(self, request: Request) -> Response:
        user: User = request.user  # type: ignore[assignment]
        tenant: Tenant = request.tenant  # type: ignore[attr-defined]
        role = request_role(request)
        body = {
            "id": user.pk,
            "email": user.email,
            "full_name": user.full_name,
            "tenant": {"id": tenant.pk, "slug": tenant.slug, "name": tenant.name},
            "role": role,
            "permissions": sorted(p.value for p in Perm if role_has_perm(role, p)),
        }
        return Response(MeSerializer(body).data)
