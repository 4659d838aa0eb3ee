"""API: the tenant's programme settings, the twin of the settings page's form (mounted under
/api/v1/ by partners/api/urls.py)."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import URLPattern, URLResolver, path
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from partnerhub.accounts.roles import Perm
from partnerhub.core.api import ErrorSerializer
from partners.models import ProgramSettings
from partners.selectors.registry import program_settings_get
from partners.services.registry import PROGRAM_SETTING_BOUNDS, program_settings_update


def _bounded(name: str, help_text: str, required: bool) -> serializers.IntegerField:
    low, high = PROGRAM_SETTING_BOUNDS[name]
    return serializers.IntegerField(
        min_value=low, max_value=high, help_text=help_text, required=required
    )


class ProgramSettingsSerializer(serializers.Serializer):
    quiet_after_days = _bounded(
        "quiet_after_days",
        "An active partner with no interaction for longer is flagged as quiet.",
        required=True,
    )
    reminder_window_days = _bounded(
        "reminder_window_days",
        "Daily reminders for agreements that end or need review within this many days.",
        required=True,
    )
    max_upload_mb = _bounded(
        "max_upload_mb", "Largest document that may be uploaded, in MB.", required=True
    )


EXAMPLE = {"quiet_after_days": 21, "reminder_window_days": 45, "max_upload_mb": 10}
ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="A value out of its bounds"),
    403: OpenApiResponse(ErrorSerializer, description="Your role does not allow this"),
}


class ProgramSettingsView(APIView):
    """Read (partner staff) and change (tenant admins) the quiet threshold, the reminder window
    and the upload limit."""

    read_perm = Perm.PARTNERS_VIEW
    write_perm = Perm.TENANT_MANAGE

    def _answer(self, row: ProgramSettings) -> Response:
        return Response(
            ProgramSettingsSerializer(
                {
                    "quiet_after_days": row.quiet_after_days,
                    "reminder_window_days": row.reminder_window_days,
                    "max_upload_mb": row.max_upload_mb,
                }
            ).data
        )

    @extend_schema(
        summary="The programme settings",
        responses={200: ProgramSettingsSerializer, 403: ERRORS[403]},
        examples=[OpenApiExample("Settings", value=EXAMPLE, response_only=True)],
    )
    def get(self, request: Request) -> Response:
        return self._answer(program_settings_get())

    def _change(self, request: Request, *, partial: bool) -> Response:
        data = ProgramSettingsSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        try:
            row = program_settings_update(**data.validated_data)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from exc
        return self._answer(row)

    @extend_schema(
        summary="Replace the programme settings",
        request=ProgramSettingsSerializer,
        responses={200: ProgramSettingsSerializer, **ERRORS},
        examples=[OpenApiExample("Settings", value=EXAMPLE)],
    )
    def put(self, request: Request) -> Response:
        return self._change(request, partial=False)

    @extend_schema(
        summary="Change some programme settings",
        request=ProgramSettingsSerializer,
        responses={200: ProgramSettingsSerializer, **ERRORS},
        examples=[
            OpenApiExample(
                "A longer quiet threshold", value={"quiet_after_days": 21}, request_only=True
            ),
            OpenApiExample("Settings", value=EXAMPLE, response_only=True),
        ],
    )
    def patch(self, request: Request) -> Response:
        return self._change(request, partial=True)


urlpatterns: list[URLPattern | URLResolver] = [
    path("programme-settings/", ProgramSettingsView.as_view(), name="programme-settings"),
]
