"""Pages: relationship (see partners/urls.py): interactions and disputes panels of the partner
page, dispute pages, quiet partners, the notifications inbox; and the portal's dispute pages
(``portal_urlpatterns``, mounted at the site root in namespace "portal")."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import AccessMixin
from django.core.exceptions import ValidationError
from django.forms import ChoiceField
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, URLPattern, URLResolver, path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.generic import ListView

from partnerhub.accounts.models import User
from partnerhub.accounts.permissions import RolePermissionRequiredMixin
from partnerhub.accounts.roles import Perm, Role
from partners.access import PortalRequiredMixin, portal_partner
from partners.exports import filtered_export
from partners.forms.agreements import apply_errors
from partners.forms.relationship import (
    DisputeAssignForm,
    DisputeCommentForm,
    DisputeCreateForm,
    DisputeTransitionForm,
    InteractionForm,
    PortalDisputeForm,
)
from partners.models import Dispute, DisputeStatus, Partner
from partners.selectors import relationship as selectors
from partners.services import relationship as services
from partners.services.notifications import notifications_mark_read
from partners.views.agreements import can_change


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _partner(pk: int) -> Partner:
    # Another tenant's partner is simply not in the scoped manager: 404 like a missing id.
    return get_object_or_404(Partner.objects.all(), pk=pk)


def partner_page(partner: Partner) -> str:
    """The registry's partner page (its interactions tab), or this panel until it exists."""
    try:
        return reverse("partners:detail", kwargs={"pk": partner.pk}) + "#interactions"
    except NoReverseMatch:
        return reverse("partners:interactions-panel", kwargs={"pk": partner.pk})


# --- interactions -----------------------------------------------------------------------------


class InteractionsPanelView(RolePermissionRequiredMixin, View):
    """The partner page's interactions tab: the log and a form to add to it (htmx)."""

    read_perm = Perm.PARTNERS_VIEW
    write_perm = Perm.PARTNERS_CHANGE

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._render(_partner(pk), InteractionForm())

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        partner = _partner(pk)
        form = InteractionForm(request.POST)
        if form.is_valid():
            try:
                services.interaction_log(
                    partner=partner, logged_by=_user(request), **form.cleaned_data
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, "Interaction logged.")
                if not getattr(request, "htmx", False):
                    return redirect(partner_page(partner))
                return self._render(partner, InteractionForm(), logged=True)
        # htmx swaps only 2xx answers: the fragment with its errors is a 200 there.
        return self._render(partner, form, status=200 if getattr(request, "htmx", False) else 400)

    def _render(
        self, partner: Partner, form: InteractionForm, status: int = 200, logged: bool = False
    ) -> HttpResponse:
        partner.refresh_from_db(fields=["last_contact_on"])
        # The log's filters come from the query string (GET); after a POST the whole log shows.
        data = self.request.GET if self.request.method == "GET" else None
        filterset = selectors.InteractionFilter(
            data, queryset=selectors.interactions_of_partner(partner), request=self.request
        )
        # The log form on the same tab has a "kind" field too: distinct ids for the labels.
        filterset.form.auto_id = "interaction_filter_%s"
        query = self.request.GET.copy() if data is not None else QueryDict()
        context = {
            "partner": partner,
            "interactions": list(filterset.qs[:100]),
            "filter": filterset,
            "filter_query": query.urlencode(),
            "filtered": any(query.values()),
            "form": form,
            "logged": logged,
            "can_change": can_change(self.request),
            "quiet_after": selectors.quiet_after_days(),
            "today": timezone.localdate(),
        }
        return render(
            self.request, "partners/relationship/_interactions.html", context, status=status
        )


class InteractionExportView(RolePermissionRequiredMixin, View):
    """A partner's interaction log, filtered like its tab, as CSV or XLSX."""

    read_perm = Perm.PARTNERS_VIEW

    def get(self, request: HttpRequest, pk: int) -> HttpResponseBase:
        partner = _partner(pk)
        return filtered_export(
            request,
            filterset=selectors.InteractionFilter(
                request.GET, queryset=selectors.interactions_of_partner(partner), request=request
            ),
            rows=selectors.interaction_export_rows,
            columns=selectors.INTERACTION_EXPORT_COLUMNS,
            name=f"interactions-partner-{partner.pk}",
        )


class QuietPartnersView(RolePermissionRequiredMixin, ListView):
    """Active partners nobody has talked to for longer than the tenant's threshold."""

    template_name = "partners/relationship/quiet.html"
    read_perm = Perm.PARTNERS_VIEW
    paginate_by = 50

    def get_queryset(self) -> Any:
        self.filterset = selectors.QuietPartnerFilter(
            self.request.GET, queryset=selectors.partners_quiet(), request=self.request
        )
        return self.filterset.qs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        query.pop("page", None)
        context.update(
            quiet_after=selectors.quiet_after_days(),
            today=timezone.localdate(),
            filter=self.filterset,
            filter_query=query.urlencode(),
            filtered=any(v for k, v in self.request.GET.items() if k != "page"),
        )
        return context


class QuietPartnersExportView(RolePermissionRequiredMixin, View):
    """The filtered quiet partners as CSV or XLSX."""

    read_perm = Perm.PARTNERS_VIEW

    def get(self, request: HttpRequest) -> HttpResponseBase:
        return filtered_export(
            request,
            filterset=selectors.QuietPartnerFilter(
                request.GET, queryset=selectors.partners_quiet(), request=request
            ),
            rows=selectors.quiet_export_rows,
            columns=selectors.QUIET_EXPORT_COLUMNS,
            name="quiet-partners",
        )


# --- disputes (CSP) ---------------------------------------------------------------------------


def _dispute(pk: int, partner: Partner | None = None) -> Dispute:
    try:
        return selectors.dispute_detail(pk, partner=partner)
    except Dispute.DoesNotExist as exc:
        raise Http404("No such dispute.") from exc


class DisputeListView(RolePermissionRequiredMixin, ListView):
    template_name = "partners/relationship/dispute_list.html"
    read_perm = Perm.PARTNERS_VIEW
    paginate_by = 25

    def get_queryset(self) -> Any:
        self.filterset = selectors.DisputeFilter(
            self.request.GET, queryset=selectors.dispute_list(), request=self.request
        )
        return self.filterset.qs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        query.pop("page", None)
        context.update(
            filter=self.filterset,
            filter_query=query.urlencode(),
            filtered=any(v for k, v in self.request.GET.items() if k != "page"),
            can_change=can_change(self.request),
        )
        return context


class DisputeExportView(RolePermissionRequiredMixin, View):
    """The filtered dispute list as CSV or XLSX, with the days each stage took."""

    read_perm = Perm.PARTNERS_VIEW

    def get(self, request: HttpRequest) -> HttpResponseBase:
        return filtered_export(
            request,
            filterset=selectors.DisputeFilter(
                request.GET, queryset=selectors.dispute_list(), request=request
            ),
            rows=selectors.dispute_export_rows,
            columns=selectors.DISPUTE_EXPORT_COLUMNS,
            name="disputes",
        )


class DisputeCreateView(RolePermissionRequiredMixin, View):
    read_perm = Perm.PARTNERS_CHANGE
    write_perm = Perm.PARTNERS_CHANGE
    template_name = "partners/relationship/dispute_form.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        initial: dict[str, Any] = {}
        partner_id = request.GET.get("partner", "")
        if partner_id.isdigit():
            initial["partner"] = Partner.objects.filter(pk=int(partner_id)).first()
        return render(request, self.template_name, {"form": DisputeCreateForm(initial=initial)})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = DisputeCreateForm(request.POST)
        if form.is_valid():
            try:
                dispute = services.dispute_open(
                    raised_by=_user(request), by_partner=False, **form.cleaned_data
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, "Dispute opened; the partner has been told.")
                return redirect("partners:dispute-detail", pk=dispute.pk)
        return render(request, self.template_name, {"form": form}, status=400)


def _dispute_context(dispute: Dispute) -> dict[str, Any]:
    return {
        "dispute": dispute,
        "comments": list(dispute.comments.all()),
        "durations": selectors.dispute_stage_texts(dispute),
        "is_closed": dispute.status in services.DISPUTE_CLOSED,
    }


class DisputeDetailView(RolePermissionRequiredMixin, View):
    """The thread and, for who may change, comment / move / assign."""

    read_perm = Perm.PARTNERS_VIEW

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self.render_page(_dispute(pk))

    def render_page(self, dispute: Dispute, status: int = 200, **forms: Any) -> HttpResponse:
        allowed = services.DISPUTE_TRANSITIONS[DisputeStatus(dispute.status)]
        transition_form = forms.get("transition_form") or DisputeTransitionForm()
        to_status = transition_form.fields["to_status"]
        assert isinstance(to_status, ChoiceField)
        to_status.choices = [(s.value, s.label) for s in DisputeStatus if s in allowed]
        assign_form = forms.get("assign_form") or DisputeAssignForm(
            initial={"owner": dispute.owner_id or self.request.user.pk}
        )
        context = {
            **_dispute_context(dispute),
            "can_change": can_change(self.request),
            "comment_form": forms.get("comment_form") or DisputeCommentForm(),
            "transition_form": transition_form,
            "assign_form": assign_form,
            "can_transition": bool(allowed),
        }
        return render(
            self.request, "partners/relationship/dispute_detail.html", context, status=status
        )


class DisputeCommentView(DisputeDetailView):
    write_perm = Perm.PARTNERS_CHANGE
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        dispute = _dispute(pk)
        form = DisputeCommentForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                services.dispute_comment_add(
                    dispute=dispute,
                    author=_user(request),
                    body=form.cleaned_data["body"],
                    from_partner=False,
                    upload=form.cleaned_data.get("attachment"),
                )
            except ValidationError as exc:
                apply_errors(form, exc, upload_field="attachment")
            else:
                messages.success(request, "Comment added; the partner has been told.")
                return redirect("partners:dispute-detail", pk=pk)
        return self.render_page(dispute, status=400, comment_form=form)


class DisputeTransitionView(DisputeDetailView):
    write_perm = Perm.PARTNERS_CHANGE
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        dispute = _dispute(pk)
        form = DisputeTransitionForm(request.POST)
        if form.is_valid():
            try:
                moved = services.dispute_transition(
                    dispute=dispute,
                    to_status=form.cleaned_data["to_status"],
                    resolution=form.cleaned_data["resolution"],
                    actor=_user(request),
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(
                    request, f"The dispute is now {moved.get_status_display().lower()}."
                )
                return redirect("partners:dispute-detail", pk=pk)
        return self.render_page(dispute, status=400, transition_form=form)


class DisputeAssignView(DisputeDetailView):
    write_perm = Perm.PARTNERS_CHANGE
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        dispute = _dispute(pk)
        form = DisputeAssignForm(request.POST)
        if form.is_valid():
            try:
                services.dispute_assign(
                    dispute=dispute, owner=form.cleaned_data["owner"], actor=_user(request)
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, f"Assigned to {form.cleaned_data['owner']}.")
                return redirect("partners:dispute-detail", pk=pk)
        return self.render_page(dispute, status=400, assign_form=form)


class DisputesPanelView(RolePermissionRequiredMixin, View):
    """The partner page's disputes tab (an htmx fragment)."""

    read_perm = Perm.PARTNERS_VIEW

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        partner = _partner(pk)
        context = {
            "partner": partner,
            "disputes": list(selectors.disputes_of_partner(partner)),
            "can_change": can_change(request),
        }
        return render(request, "partners/relationship/_disputes.html", context)


# --- notifications ----------------------------------------------------------------------------


class MemberRequiredMixin(AccessMixin):
    """Any role in the active tenant: everyone has their own inbox."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated or getattr(request, "membership", None) is None:
            return self.handle_no_permission()
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


class NotificationListView(MemberRequiredMixin, ListView):
    """The signed-in user's own notifications and tasks."""

    template_name = "partners/relationship/notifications.html"
    paginate_by = 30

    def get_queryset(self) -> Any:
        self.filterset = selectors.NotificationFilter(
            self.request.GET, queryset=selectors.notifications_of_user(_user(self.request))
        )
        return self.filterset.qs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        role = getattr(getattr(self.request, "membership", None), "role", None)
        is_partner = role == Role.PARTNER
        query = self.request.GET.copy()
        query.pop("page", None)
        context.update(
            filter=self.filterset,
            filter_query=query.urlencode(),
            unread_count=selectors.notification_unread_count(_user(self.request)),
            base_template="partners/portal/base_portal.html" if is_partner else "base.html",
            partner=portal_partner(self.request) if is_partner else None,
            section="notifications",
        )
        return context


class NotificationReadView(MemberRequiredMixin, View):
    """Mark one notification (``id``) or all of the user's notifications read."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> HttpResponse:
        raw = request.POST.get("id", "")
        ids = [int(raw)] if raw.isdigit() else None
        notifications_mark_read(user=_user(request), ids=ids)
        target = request.POST.get("next", "")
        if target and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return redirect(target)
        return redirect("partners:notification-list")


# --- portal -----------------------------------------------------------------------------------


class PortalDisputeListView(PortalRequiredMixin, View):
    """The partner's own disputes, and a form to raise one."""

    def get(self, request: HttpRequest) -> HttpResponse:
        status = request.GET.get("status", "")
        disputes = selectors.disputes_of_partner(self.partner)
        if status in DisputeStatus.values:
            disputes = disputes.filter(status=status)
        context = {
            "partner": self.partner,
            "section": "disputes",
            "disputes": list(disputes),
            "status": status,
            "statuses": DisputeStatus.choices,
        }
        return render(request, "partners/portal/disputes.html", context)


class PortalDisputeCreateView(PortalRequiredMixin, View):
    template_name = "partners/portal/disputes_form.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(PortalDisputeForm(partner=self.partner))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = PortalDisputeForm(request.POST, partner=self.partner)
        if form.is_valid():
            try:
                dispute = services.dispute_open(
                    partner=self.partner,
                    raised_by=_user(request),
                    by_partner=True,
                    **form.cleaned_data,
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, "Your dispute was sent; we will get back to you.")
                return redirect("portal:dispute-detail", pk=dispute.pk)
        return self._render(form, status=400)

    def _render(self, form: PortalDisputeForm, status: int = 200) -> HttpResponse:
        context = {"partner": self.partner, "section": "disputes", "form": form}
        return render(self.request, self.template_name, context, status=status)


class PortalDisputeDetailView(PortalRequiredMixin, View):
    """One of the partner's disputes (another partner's id: 404) and a reply form."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._render(_dispute(pk, partner=self.partner), DisputeCommentForm())

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        dispute = _dispute(pk, partner=self.partner)
        form = DisputeCommentForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                services.dispute_comment_add(
                    dispute=dispute,
                    author=_user(request),
                    body=form.cleaned_data["body"],
                    from_partner=True,
                    upload=form.cleaned_data.get("attachment"),
                )
            except ValidationError as exc:
                apply_errors(form, exc, upload_field="attachment")
            else:
                messages.success(request, "Reply sent.")
                return redirect("portal:dispute-detail", pk=pk)
        return self._render(dispute, form, status=400)

    def _render(
        self, dispute: Dispute, form: DisputeCommentForm, status: int = 200
    ) -> HttpResponse:
        context = {
            **_dispute_context(dispute),
            "partner": self.partner,
            "section": "disputes",
            "comment_form": form,
            "portal": True,
        }
        return render(self.request, "partners/portal/disputes_detail.html", context, status=status)


urlpatterns: list[URLPattern | URLResolver] = [
    path("<int:pk>/interactions/", InteractionsPanelView.as_view(), name="interactions-panel"),
    path(
        "<int:pk>/interactions/export/",
        InteractionExportView.as_view(),
        name="interactions-export",
    ),
    path("<int:pk>/disputes/", DisputesPanelView.as_view(), name="disputes-panel"),
    path("quiet/", QuietPartnersView.as_view(), name="quiet-partners"),
    path("quiet/export/", QuietPartnersExportView.as_view(), name="quiet-export"),
    path("disputes/", DisputeListView.as_view(), name="dispute-list"),
    path("disputes/export/", DisputeExportView.as_view(), name="dispute-export"),
    path("disputes/new/", DisputeCreateView.as_view(), name="dispute-create"),
    path("disputes/<int:pk>/", DisputeDetailView.as_view(), name="dispute-detail"),
    path("disputes/<int:pk>/comment/", DisputeCommentView.as_view(), name="dispute-comment"),
    path(
        "disputes/<int:pk>/transition/", DisputeTransitionView.as_view(), name="dispute-transition"
    ),
    path("disputes/<int:pk>/assign/", DisputeAssignView.as_view(), name="dispute-assign"),
    path("notifications/", NotificationListView.as_view(), name="notification-list"),
    path("notifications/read/", NotificationReadView.as_view(), name="notification-read"),
]

# Portal pages of disputes (mounted under /portal/ by partners/portal_urls.py).
portal_urlpatterns: list[URLPattern | URLResolver] = [
    path("portal/disputes/", PortalDisputeListView.as_view(), name="dispute-list"),
    path("portal/disputes/new/", PortalDisputeCreateView.as_view(), name="dispute-create"),
    path("portal/disputes/<int:pk>/", PortalDisputeDetailView.as_view(), name="dispute-detail"),
]
