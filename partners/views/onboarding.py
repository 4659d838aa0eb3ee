"""Pages: a partner's onboarding panel (also an htmx fragment), the pipeline, checklist settings.

Views translate: they parse a form, call one service and render the panel again; every rule
is in ``partners.services.onboarding``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
)
from django.shortcuts import redirect, render
from django.urls import URLPattern, URLResolver, path, reverse
from django.views import View

from partnerhub.accounts.models import User
from partnerhub.accounts.permissions import RolePermissionRequiredMixin, request_role
from partnerhub.accounts.roles import Perm, role_has_perm
from partners.exports import filtered_export
from partners.forms.onboarding import (
    ChecklistSelectionForm,
    ChecklistTemplateItemForm,
    RiskAssessmentForm,
    StepCommentForm,
    StepCompleteForm,
    TransitionForm,
)
from partners.models import (
    ChecklistKind,
    ChecklistStep,
    ChecklistTemplateItem,
    Document,
    Partner,
    PartnerStatus,
    PartnerType,
    RiskLevel,
)
from partners.models.onboarding import Party
from partners.selectors.onboarding import (
    PIPELINE_EXPORT_COLUMNS,
    PipelineFilter,
    checklist_template_items,
    onboarding_pipeline,
    partner_checklist,
    partner_onboarding_get,
    partner_risk_assessments,
    partner_transition_history,
    pipeline_export_rows,
    pipeline_partners,
)
from partners.services import onboarding as services
from partners.services.onboarding import (
    CHECKLIST_OPEN,
    PIPELINE,
    RISK_ASSESSMENT_STAGES,
    RISK_CATEGORIES,
    RISK_CATEGORY_LABELS,
    STEP_DONE_STATES,
    allowed_next,
)

S = PartnerStatus

TRANSITION_VERBS: dict[str, str] = {
    S.VETTING: "Start vetting",
    S.DUE_DILIGENCE: "Start due diligence",
    S.CONTRACTING: "Start contracting",
    S.INTEGRATION: "Start integration",
    S.ACTIVE: "Activate",
    S.SUSPENDED: "Suspend",
    S.OFFBOARDING: "Start offboarding",
    S.EXITED: "Mark as exited",
    S.REJECTED: "Reject",
}
RISK_STYLES: dict[str, str] = {
    RiskLevel.LOW: "success",
    RiskLevel.MEDIUM: "warning",
    RiskLevel.HIGH: "danger",
    RiskLevel.CRITICAL: "dark",
}
STATUS_STYLES: dict[str, str] = {
    S.APPLIED: "secondary",
    S.VETTING: "info",
    S.DUE_DILIGENCE: "info",
    S.CONTRACTING: "primary",
    S.INTEGRATION: "primary",
    S.ACTIVE: "success",
    S.SUSPENDED: "warning",
    S.OFFBOARDING: "warning",
    S.EXITED: "dark",
    S.REJECTED: "danger",
}


def error_messages(error: ValidationError) -> list[str]:
    if hasattr(error, "error_dict"):
        return [message for messages_ in error.message_dict.values() for message in messages_]
    return list(error.messages)


def form_error_messages(form: Any) -> list[str]:
    found = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else None
        for error in errors:
            found.append(f"{label}: {error}" if label and name != "__all__" else error)
    return found


def is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


class OnboardingPageMixin(RolePermissionRequiredMixin):
    read_perm = Perm.PARTNERS_VIEW
    write_perm = Perm.PARTNERS_CHANGE

    def can_change(self, request: HttpRequest) -> bool:
        return role_has_perm(request_role(request), Perm.PARTNERS_CHANGE)

    def is_admin(self, request: HttpRequest) -> bool:
        return role_has_perm(request_role(request), Perm.TENANT_MANAGE)


class PartnerOnboardingMixin(OnboardingPageMixin):
    """Pages of one partner: another tenant's partner answers 404, like a missing one."""

    def get_partner(self, pk: int) -> Partner:
        try:
            return partner_onboarding_get(pk=pk)
        except Partner.DoesNotExist:
            raise Http404("No such partner.") from None

    def render_panel(
        self,
        request: HttpRequest,
        partner: Partner,
        *,
        errors: list[str] | None = None,
        error_for: str = "",
        posted: dict[str, Any] | None = None,
        notice: str = "",
        status: int = 200,
        risk_form: RiskAssessmentForm | None = None,
    ) -> HttpResponse:
        can_change = self.can_change(request)
        is_admin = self.is_admin(request)
        steps = partner_checklist(partner=partner)
        documents = list(Document.objects.filter(partner=partner).order_by("-uploaded_at"))
        open_mandatory = {
            kind: [s.title for s in steps if s.kind == kind and s.mandatory and not _done(s)]
            for kind in ChecklistKind.values
        }
        transitions = []
        for target in allowed_next(partner.status):
            blocked: list[str] = []
            if target == S.ACTIVE:
                blocked = open_mandatory[ChecklistKind.ONBOARDING]
                if not any(s.kind == ChecklistKind.ONBOARDING for s in steps):
                    blocked = []  # instantiated on the way (partners created before onboarding)
            elif target == S.EXITED:
                blocked = open_mandatory[ChecklistKind.OFFBOARDING]
            verb = TRANSITION_VERBS[target]
            if target == S.ACTIVE and partner.status == S.SUSPENDED:
                verb = "Reactivate"
            transitions.append(
                {
                    "status": str(target),
                    "label": str(target.label),
                    "verb": verb,
                    "blocked": blocked,
                    "style": "danger" if target == S.REJECTED else STATUS_STYLES[target],
                }
            )
        action = posted.get("action", "") if posted else ""
        checklists = []
        for kind, title in (
            (ChecklistKind.OFFBOARDING, "Offboarding checklist"),
            (ChecklistKind.ONBOARDING, "Onboarding checklist"),
        ):
            kind_steps = [s for s in steps if s.kind == kind]
            if not kind_steps and kind == ChecklistKind.OFFBOARDING:
                continue
            rows = []
            for step in kind_steps:
                editable = can_change and partner.status in CHECKLIST_OPEN[step.kind]
                pending = step.state == ChecklistStep.State.PENDING
                rows.append(
                    {
                        "step": step,
                        "can_complete": editable
                        and pending
                        and step.completed_by_party != Party.PARTNER,
                        "waits_for_partner": pending and step.completed_by_party == Party.PARTNER,
                        "can_waive": editable and pending and (not step.mandatory or is_admin),
                        "can_reopen": editable and not pending,
                        "has_error": error_for == f"step:{step.pk}",
                        "action": action,
                    }
                )
            mandatory = [s for s in kind_steps if s.mandatory]
            checklists.append(
                {
                    "title": title,
                    "testid": f"{kind}-checklist",
                    "rows": rows,
                    "total": len(mandatory),
                    "done": sum(1 for s in mandatory if _done(s)),
                }
            )
        assessments = partner_risk_assessments(partner=partner)
        latest = assessments[0] if assessments else None
        risk_level = latest.risk_level if latest else partner.risk_level
        context = {
            "partner": partner,
            "status_style": STATUS_STYLES.get(partner.status, "secondary"),
            "risk_style": RISK_STYLES.get(risk_level, "secondary"),
            "can_change": can_change,
            "is_admin": is_admin,
            "transitions": [t for t in transitions if t["status"] != S.REJECTED],
            "reject": next((t for t in transitions if t["status"] == S.REJECTED), None),
            "history": partner_transition_history(partner=partner),
            "checklists": checklists,
            "documents": documents,
            "latest_assessment": latest,
            "latest_answers": [
                (RISK_CATEGORY_LABELS[c], latest.answers.get(c)) for c in RISK_CATEGORIES
            ]
            if latest
            else [],
            "assessments": assessments,
            "risk_form": risk_form or RiskAssessmentForm(),
            "can_assess": can_change and partner.status in RISK_ASSESSMENT_STAGES,
            "errors": errors or [],
            "error_for": error_for,
            "posted": posted or {},
            "notice": notice,
        }
        template = (
            "partners/onboarding/_panel.html"
            if is_htmx(request)
            else "partners/onboarding/panel.html"
        )
        return render(request, template, context, status=status)

    def done(self, request: HttpRequest, partner: Partner, notice: str) -> HttpResponse:
        if is_htmx(request):
            return self.render_panel(request, partner, notice=notice)
        messages.success(request, notice)
        return redirect("partners:onboarding-panel", pk=partner.pk)

    def failed(
        self,
        request: HttpRequest,
        partner: Partner,
        errors: list[str],
        *,
        error_for: str,
        posted: dict[str, Any] | None = None,
        risk_form: RiskAssessmentForm | None = None,
    ) -> HttpResponse:
        # htmx swaps only 2xx answers; a plain form post gets a real 400.
        return self.render_panel(
            request,
            partner,
            errors=errors,
            error_for=error_for,
            posted=posted,
            risk_form=risk_form,
            status=200 if is_htmx(request) else 400,
        )


def _done(step: ChecklistStep) -> bool:
    return step.state in STEP_DONE_STATES


class OnboardingPanelView(PartnerOnboardingMixin, View):
    """A partner's status, next transitions, checklist, risk assessment and history."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self.render_panel(request, self.get_partner(pk))


class OnboardingTransitionView(PartnerOnboardingMixin, View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        partner = self.get_partner(pk)
        form = TransitionForm(request.POST)
        posted = {
            "comment": request.POST.get("comment", ""),
            "reason": request.POST.get("reason", ""),
            "to_status": request.POST.get("to_status", ""),
        }
        if not form.is_valid():
            return self.failed(
                request, partner, form_error_messages(form), error_for="transition", posted=posted
            )
        try:
            transition = services.partner_transition(
                partner=partner,
                to_status=form.cleaned_data["to_status"],
                actor=_user(request),
                comment=form.cleaned_data["comment"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            return self.failed(
                request, partner, error_messages(error), error_for="transition", posted=posted
            )
        return self.done(
            request, partner, f"{partner} is now {transition.get_to_status_display().lower()}."
        )


class OnboardingStepView(PartnerOnboardingMixin, View):
    """Complete, reopen or waive one checklist step (CSP staff)."""

    actions: dict[str, str] = {"complete": "completed", "reopen": "reopened", "waive": "waived"}

    def post(self, request: HttpRequest, pk: int, step_pk: int, action: str) -> HttpResponse:
        partner = self.get_partner(pk)
        step = ChecklistStep.objects.filter(pk=step_pk, partner=partner).first()
        if step is None or action not in self.actions:
            raise Http404("No such step.")
        error_for = f"step:{step.pk}"
        posted = {
            "note": request.POST.get("note", ""),
            "comment": request.POST.get("comment", ""),
            "action": action,
        }
        try:
            if action == "complete":
                form = StepCompleteForm(request.POST, partner=partner)
                if not form.is_valid():
                    return self.failed(
                        request,
                        partner,
                        form_error_messages(form),
                        error_for=error_for,
                        posted=posted,
                    )
                services.checklist_step_complete(
                    step=step,
                    actor=_user(request),
                    party=Party.CSP,
                    note=form.cleaned_data["note"],
                    document=form.cleaned_data["document"],
                )
            else:
                comment_form = StepCommentForm(request.POST)
                comment_form.is_valid()
                comment = comment_form.cleaned_data.get("comment", "")
                handler: Callable[..., ChecklistStep] = (
                    services.checklist_step_reopen
                    if action == "reopen"
                    else services.checklist_step_waive
                )
                handler(step=step, actor=_user(request), comment=comment)
        except ValidationError as error:
            return self.failed(
                request, partner, error_messages(error), error_for=error_for, posted=posted
            )
        return self.done(request, partner, f"Step '{step.title}' {self.actions[action]}.")


class OnboardingRiskView(PartnerOnboardingMixin, View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        partner = self.get_partner(pk)
        form = RiskAssessmentForm(request.POST)
        if not form.is_valid():
            return self.failed(
                request, partner, form_error_messages(form), error_for="risk", risk_form=form
            )
        try:
            assessment = services.risk_assessment_record(
                partner=partner,
                answers=form.answers(),
                notes=form.cleaned_data["notes"],
                actor=_user(request),
            )
        except ValidationError as error:
            return self.failed(
                request, partner, error_messages(error), error_for="risk", risk_form=form
            )
        return self.done(
            request,
            partner,
            f"Risk assessment recorded: score {assessment.score}, "
            f"{assessment.get_risk_level_display().lower()} risk.",
        )


class OnboardingPipelineView(OnboardingPageMixin, View):
    """Partners by onboarding stage, with counts and the median days each stage takes."""

    def get(self, request: HttpRequest) -> HttpResponse:
        partner_type_id = _int_or_none(request.GET.get("partner_type"))
        owner_id = _int_or_none(request.GET.get("owner"))
        if request.GET.get("mine"):
            owner_id = request.user.pk
        stages = onboarding_pipeline(partner_type_id=partner_type_id, account_owner_id=owner_id)
        context = {
            "pipeline": [(s, STATUS_STYLES[s.status]) for s in stages if s.status in PIPELINE],
            "outcomes": [(s, STATUS_STYLES[s.status]) for s in stages if s.status not in PIPELINE],
            "partner_types": list(PartnerType.objects.order_by("name")),
            "selected_type": partner_type_id,
            "mine": bool(request.GET.get("mine")),
            "can_change": self.can_change(request),
            "filter_query": request.GET.urlencode(),
        }
        return render(request, "partners/onboarding/pipeline.html", context)


class OnboardingPipelineExportView(OnboardingPageMixin, View):
    """The pipeline's partners (the page's filters) as CSV or XLSX, longest waiting first."""

    def get(self, request: HttpRequest) -> HttpResponseBase:
        return filtered_export(
            request,
            filterset=PipelineFilter(request.GET, queryset=pipeline_partners(), request=request),
            rows=pipeline_export_rows,
            columns=PIPELINE_EXPORT_COLUMNS,
            name="onboarding-pipeline",
        )


class ChecklistTemplateListView(OnboardingPageMixin, View):
    """Settings: the checklist templates per kind and partner type (new checklists only)."""

    def selection(self, request: HttpRequest) -> tuple[str, PartnerType | None]:
        # The selection is in the query string, for the page and for its "add" form alike.
        form = ChecklistSelectionForm(request.GET)
        if not form.is_valid():
            raise Http404("No such checklist.")  # e.g. another tenant's partner type id
        kind = form.cleaned_data.get("kind") or ChecklistKind.ONBOARDING
        return kind, form.cleaned_data.get("partner_type")

    def get(self, request: HttpRequest) -> HttpResponse:
        kind, partner_type = self.selection(request)
        return self.render_page(request, kind, partner_type, ChecklistTemplateItemForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        kind, partner_type = self.selection(request)
        form = ChecklistTemplateItemForm(request.POST)
        if form.is_valid():
            try:
                item = services.checklist_template_item_create(
                    kind=kind, partner_type=partner_type, **form.cleaned_data
                )
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(request, f"Step '{item.title}' added.")
                return HttpResponseRedirect(_list_url(kind, partner_type))
        return self.render_page(request, kind, partner_type, form, status=400)

    def render_page(
        self,
        request: HttpRequest,
        kind: str,
        partner_type: PartnerType | None,
        form: ChecklistTemplateItemForm,
        status: int = 200,
    ) -> HttpResponse:
        context = {
            "kind": kind,
            "kind_label": ChecklistKind(kind).label,
            "kinds": ChecklistKind.choices,
            "partner_type": partner_type,
            "partner_types": list(PartnerType.objects.order_by("name")),
            "items": checklist_template_items(
                kind=kind, partner_type_id=partner_type.pk if partner_type else None
            ),
            "common_items": checklist_template_items(kind=kind, partner_type_id=None)
            if partner_type
            else [],
            "form": form,
            "can_change": self.can_change(request),
            "list_url": _list_url(kind, partner_type),
        }
        return render(request, "partners/onboarding/checklists.html", context, status=status)


class ChecklistTemplateItemView(OnboardingPageMixin, View):
    """Edit (GET/POST), delete or move one template step (admins and partner managers)."""

    read_perm = Perm.PARTNERS_CHANGE

    def get_item(self, item_pk: int) -> ChecklistTemplateItem:
        item = (
            ChecklistTemplateItem.objects.select_related("partner_type").filter(pk=item_pk).first()
        )
        if item is None:
            raise Http404("No such checklist step.")
        return item

    def get(self, request: HttpRequest, item_pk: int) -> HttpResponse:
        item = self.get_item(item_pk)
        form = ChecklistTemplateItemForm(
            initial={
                "title": item.title,
                "key": item.key,
                "description": item.description,
                "mandatory": item.mandatory,
                "completed_by": item.completed_by,
                "evidence": item.evidence,
            }
        )
        return self.render_edit(request, item, form)

    def post(self, request: HttpRequest, item_pk: int) -> HttpResponse:
        item = self.get_item(item_pk)
        back = _list_url(item.kind, item.partner_type)
        action = request.POST.get("action", "save")
        try:
            if action == "delete":
                services.checklist_template_item_delete(item=item)
                messages.success(request, f"Step '{item.title}' removed.")
                return HttpResponseRedirect(back)
            if action in ("up", "down"):
                services.checklist_template_item_move(item=item, direction=action)
                return HttpResponseRedirect(back)
        except ValidationError as error:
            messages.error(request, " ".join(error_messages(error)))
            return HttpResponseRedirect(back)
        form = ChecklistTemplateItemForm(request.POST)
        if form.is_valid():
            try:
                services.checklist_template_item_update(item=item, **form.cleaned_data)
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(request, f"Step '{form.cleaned_data['title']}' saved.")
                return HttpResponseRedirect(back)
        return self.render_edit(request, item, form, status=400)

    def render_edit(
        self,
        request: HttpRequest,
        item: ChecklistTemplateItem,
        form: ChecklistTemplateItemForm,
        status: int = 200,
    ) -> HttpResponse:
        context = {
            "item": item,
            "form": form,
            "can_change": self.can_change(request),
            "list_url": _list_url(item.kind, item.partner_type),
        }
        return render(request, "partners/onboarding/checklist_edit.html", context, status=status)


def _add_errors(form: Any, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, field_errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, field_errors)
    else:
        form.add_error(None, error.messages)


def _list_url(kind: str, partner_type: PartnerType | None) -> str:
    url = f"{reverse('partners:onboarding-checklists')}?kind={kind}"
    return f"{url}&partner_type={partner_type.pk}" if partner_type else url


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _user(request: HttpRequest) -> User | None:
    user = request.user
    return user if isinstance(user, User) else None


urlpatterns: list[URLPattern | URLResolver] = [
    path("onboarding/", OnboardingPipelineView.as_view(), name="onboarding-pipeline"),
    path("onboarding/export/", OnboardingPipelineExportView.as_view(), name="onboarding-export"),
    path(
        "onboarding/checklists/",
        ChecklistTemplateListView.as_view(),
        name="onboarding-checklists",
    ),
    path(
        "onboarding/checklists/<int:item_pk>/",
        ChecklistTemplateItemView.as_view(),
        name="onboarding-checklist-item",
    ),
    path("<int:pk>/onboarding/", OnboardingPanelView.as_view(), name="onboarding-panel"),
    path(
        "<int:pk>/onboarding/transition/",
        OnboardingTransitionView.as_view(),
        name="onboarding-transition",
    ),
    path(
        "<int:pk>/onboarding/steps/<int:step_pk>/<slug:action>/",
        OnboardingStepView.as_view(),
        name="onboarding-step",
    ),
    path("<int:pk>/onboarding/risk/", OnboardingRiskView.as_view(), name="onboarding-risk"),
]
