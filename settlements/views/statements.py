"""Pages: the statements list (filters, bulk approval of a month), one statement with its lines,
traces, adjustments, disputes and audit history, its actions, and the usage behind a line."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import URLPattern, URLResolver, path, reverse
from django.utils.http import urlencode
from django.views import View

from partnerhub.accounts.models import User
from partnerhub.accounts.permissions import RolePermissionRequiredMixin, request_role
from partnerhub.accounts.roles import Perm, role_has_perm
from partnerhub.tenancy.context import require_current_tenant
from partners.models import Partner
from settlements.filters import StatementFilter
from settlements.forms import (
    AdjustmentForm,
    ApprovalPolicyForm,
    DisputeResolveForm,
    StatementDisputeForm,
    StatementPaidForm,
)
from settlements.models import Statement, StatementDispute, StatementLine
from settlements.selectors import statements as selectors
from settlements.services import statements as services

FILTER_KEYS = ("month", "status", "partner", "currency")


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _can(request: HttpRequest, perm: Perm) -> bool:
    return role_has_perm(request_role(request), perm)


def _flash_error(request: HttpRequest, exc: ValidationError) -> None:
    messages.error(request, " ".join(exc.messages))


def _form_errors(request: HttpRequest, form: Any) -> None:
    for field, errors in form.errors.items():
        label = "" if field == "__all__" else f"{field.replace('_', ' ').capitalize()}: "
        messages.error(request, label + " ".join(errors))


class StatementListView(RolePermissionRequiredMixin, View):
    """Statements by month, status, partner and currency; bulk approval of a month's drafts."""

    read_perm = Perm.SETTLEMENTS_VIEW
    write_perm = Perm.SETTLEMENTS_APPROVE

    def get(self, request: HttpRequest) -> HttpResponse:
        filterset = StatementFilter(request.GET, queryset=selectors.statement_list())
        statements = filterset.qs if filterset.is_valid() else Statement.objects.none()
        page = Paginator(statements, 50).get_page(request.GET.get("page"))
        month = filterset.form.cleaned_data.get("month") if filterset.is_valid() else None
        drafts = 0
        if month is not None and request.GET.get("confirm"):
            drafts = statements.filter(status=Statement.Status.DRAFT).count()
        context = {
            "filter": filterset,
            "page_obj": page,
            "statements": page.object_list,
            "partners": selectors.partner_options(),
            "statuses": Statement.Status.choices,
            "month": month,
            "confirm": bool(request.GET.get("confirm")) and month is not None,
            "draft_count": drafts,
            "filters": {k: request.GET.get(k, "") for k in FILTER_KEYS},
            "can_approve": _can(request, Perm.SETTLEMENTS_APPROVE),
            "can_set_policy": _can(request, Perm.TENANT_MANAGE),
            "tab": "statements",
            "area": "settlements",
        }
        return render(request, "settlements/statements/list.html", context)

    def post(self, request: HttpRequest) -> HttpResponse:
        """Approve every draft the (month-bound) filter selects."""
        filterset = StatementFilter(request.POST, queryset=Statement.objects.all())
        back = reverse("settlements:statement-list")
        query = urlencode({k: request.POST.get(k, "") for k in FILTER_KEYS})
        if not filterset.is_valid() or filterset.form.cleaned_data.get("month") is None:
            messages.error(request, "Choose a month (YYYY-MM) to approve its statements.")
            return HttpResponseRedirect(f"{back}?{query}")
        result = services.statements_approve(statements=filterset.qs, user=_user(request))
        messages.success(request, f"{len(result.approved)} statement(s) approved.")
        for statement, reason in result.refused:
            messages.error(request, f"Not approved: {statement.partner.display_name}: {reason}")
        return HttpResponseRedirect(f"{back}?{query}")


def _statement(pk: int) -> Statement:
    return get_object_or_404(selectors.statement_detail_queryset(), pk=pk)


class StatementDetailView(RolePermissionRequiredMixin, View):
    read_perm = Perm.SETTLEMENTS_VIEW

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        statement = _statement(pk)
        lines = list(statement.lines.all())
        adjustment_form = AdjustmentForm()
        adjustment_form.set_lines(lines)
        dispute_form = StatementDisputeForm()
        dispute_form.set_lines(lines)
        context = {
            "statement": statement,
            "lines": lines,
            "adjustments": list(statement.adjustments.all()),
            "corrections": list(statement.corrections.all()),
            "disputes": list(statement.disputes.all()),
            "audit_entries": selectors.statement_audit_trail(statement=statement),
            "can_approve": _can(request, Perm.SETTLEMENTS_APPROVE),
            "can_change": _can(request, Perm.SETTLEMENTS_CHANGE),
            "paid_form": StatementPaidForm(),
            "adjustment_form": adjustment_form,
            "dispute_form": dispute_form,
            "resolve_form": DisputeResolveForm(),
            "tab": "statements",
            "area": "settlements",
        }
        return render(request, "settlements/engine/statement_detail.html", context)


class _StatementAction(RolePermissionRequiredMixin, View):
    read_perm = Perm.SETTLEMENTS_VIEW
    write_perm = Perm.SETTLEMENTS_APPROVE
    done = ""

    def post(self, request: HttpRequest, pk: int, **kwargs: Any) -> HttpResponse:
        statement = get_object_or_404(Statement.objects.all(), pk=pk)
        try:
            if self.act(request, statement, **kwargs) and self.done:
                messages.success(request, self.done)
        except ValidationError as exc:
            _flash_error(request, exc)
        return HttpResponseRedirect(reverse("settlements:statement-detail", args=[pk]))

    def act(self, request: HttpRequest, statement: Statement, **kwargs: Any) -> bool:
        raise NotImplementedError


class StatementApproveView(_StatementAction):
    done = "Statement approved."

    def act(self, request: HttpRequest, statement: Statement, **kwargs: Any) -> bool:
        services.statement_approve(statement=statement, user=_user(request))
        return True


class StatementPaidView(_StatementAction):
    done = "Payment recorded."

    def act(self, request: HttpRequest, statement: Statement, **kwargs: Any) -> bool:
        form = StatementPaidForm(request.POST)
        if not form.is_valid():
            _form_errors(request, form)
            return False
        services.statement_mark_paid(
            statement=statement,
            user=_user(request),
            payment_date=form.cleaned_data["payment_date"],
            reference=form.cleaned_data["reference"],
        )
        return True


def _line(statement: Statement, value: str) -> StatementLine | None:
    if not value:
        return None
    return get_object_or_404(StatementLine.objects.filter(statement=statement), pk=value)


class StatementAdjustmentView(_StatementAction):
    write_perm = Perm.SETTLEMENTS_CHANGE
    done = "Adjustment added: the next settlement run settles it in the next open statement."

    def act(self, request: HttpRequest, statement: Statement, **kwargs: Any) -> bool:
        form = AdjustmentForm(request.POST)
        form.set_lines(statement.lines.all())
        if not form.is_valid():
            _form_errors(request, form)
            return False
        services.adjustment_create(
            partner=Partner.objects.get(pk=statement.partner_id),
            amount=form.cleaned_data["amount"],
            currency=statement.currency,
            reason=form.cleaned_data["reason"],
            user=_user(request),
            corrects_statement=statement if statement.is_frozen else None,
            corrects_line=_line(statement, form.cleaned_data["line"]),
        )
        return True


class StatementDisputeView(_StatementAction):
    """CSP staff record a dispute on the statement (the partner does it in the portal)."""

    write_perm = Perm.SETTLEMENTS_CHANGE
    done = "Dispute recorded."

    def act(self, request: HttpRequest, statement: Statement, **kwargs: Any) -> bool:
        form = StatementDisputeForm(request.POST, request.FILES)
        form.set_lines(statement.lines.all())
        if not form.is_valid():
            _form_errors(request, form)
            return False
        services.statement_dispute_open(
            statement=statement,
            user=_user(request),
            comment=form.cleaned_data["comment"],
            by_partner=False,
            line=_line(statement, form.cleaned_data["line"]),
            upload=form.cleaned_data.get("attachment"),
        )
        return True


class StatementDisputeResolveView(_StatementAction):
    write_perm = Perm.SETTLEMENTS_CHANGE
    done = "Dispute closed."

    def act(self, request: HttpRequest, statement: Statement, **kwargs: Any) -> bool:
        link = get_object_or_404(
            StatementDispute.objects.filter(statement=statement), pk=kwargs["link_pk"]
        )
        form = DisputeResolveForm(request.POST)
        if not form.is_valid():
            _form_errors(request, form)
            return False
        services.statement_dispute_resolve(
            link=link,
            user=_user(request),
            resolution=form.cleaned_data["resolution"],
            amount=form.cleaned_data.get("amount"),
            reject=form.cleaned_data["reject"],
        )
        return True


def line_usage_page(request: HttpRequest, statement: Statement, line_pk: int) -> dict[str, Any]:
    """Context of the paginated usage behind one line (staff and portal pages)."""
    line = get_object_or_404(StatementLine.objects.filter(statement=statement), pk=line_pk)
    scope = selectors.line_usage_scope(
        line=line, statement=statement, tz=require_current_tenant().timezone
    )
    records = selectors.line_usage_records(scope) if scope else None
    page = (
        Paginator(records, 100).get_page(request.GET.get("page")) if records is not None else None
    )
    return {"statement": statement, "line": line, "scope": scope, "page_obj": page}


class StatementLineUsageView(RolePermissionRequiredMixin, View):
    read_perm = Perm.SETTLEMENTS_VIEW

    def get(self, request: HttpRequest, pk: int, line_pk: int) -> HttpResponse:
        statement = get_object_or_404(Statement.objects.select_related("partner"), pk=pk)
        context = {
            **line_usage_page(request, statement, line_pk),
            "back": reverse("settlements:statement-detail", args=[pk]),
            "base": "base.html",
            "tab": "statements",
            "area": "settlements",
        }
        return render(request, "settlements/statements/line_usage.html", context)


class ApprovalPolicyView(RolePermissionRequiredMixin, View):
    """The tenant's approval policy (four eyes): tenant admins only, since it governs finance."""

    read_perm = Perm.TENANT_MANAGE
    write_perm = Perm.TENANT_MANAGE

    def _render(self, request: HttpRequest, form: ApprovalPolicyForm, status: int = 200):
        context = {"form": form, "tab": "statements", "area": "settlements"}
        return render(request, "settlements/statements/policy.html", context, status=status)

    def get(self, request: HttpRequest) -> HttpResponse:
        policy = services.settlement_policy()
        return self._render(
            request, ApprovalPolicyForm(initial={"four_eyes_approval": policy.four_eyes_approval})
        )

    def post(self, request: HttpRequest) -> HttpResponse:
        form = ApprovalPolicyForm(request.POST)
        if not form.is_valid():
            return self._render(request, form, status=400)
        services.settlement_policy_set(four_eyes_approval=form.cleaned_data["four_eyes_approval"])
        messages.success(request, "Approval policy saved.")
        return HttpResponseRedirect(reverse("settlements:approval-policy"))


urlpatterns: list[URLPattern | URLResolver] = [
    path("statements/", StatementListView.as_view(), name="statement-list"),
    path("statements/policy/", ApprovalPolicyView.as_view(), name="approval-policy"),
    path("statements/<int:pk>/", StatementDetailView.as_view(), name="statement-detail"),
    path("statements/<int:pk>/approve/", StatementApproveView.as_view(), name="statement-approve"),
    path("statements/<int:pk>/mark-paid/", StatementPaidView.as_view(), name="statement-paid"),
    path(
        "statements/<int:pk>/adjustments/",
        StatementAdjustmentView.as_view(),
        name="statement-adjustment-add",
    ),
    path(
        "statements/<int:pk>/disputes/",
        StatementDisputeView.as_view(),
        name="statement-dispute-open",
    ),
    path(
        "statements/<int:pk>/disputes/<int:link_pk>/resolve/",
        StatementDisputeResolveView.as_view(),
        name="statement-dispute-resolve",
    ),
    path(
        "statements/<int:pk>/lines/<int:line_pk>/usage/",
        StatementLineUsageView.as_view(),
        name="statement-line-usage",
    ),
]
