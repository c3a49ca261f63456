from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tickets.models import (
    AssistOutput,
    Attachment,
    AuditLog,
    InboundEmail,
    Message,
    Profile,
    Queue,
    Requester,
    Team,
    Ticket,
    TicketEvent,
)
from tickets.sla.forms import SlaPolicyForm


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    filter_horizontal = ["leads"]


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "team", "languages", "timezone"]
    list_select_related = ["user", "team"]
    search_fields = ["user__username", "user__email"]


@admin.register(Requester)
class RequesterAdmin(admin.ModelAdmin):
    list_display = ["email", "name", "language", "created_at"]
    search_fields = ["email", "name"]
    actions = ["export_personal_data"]

    @admin.action(description=_("Export personal data (zip)"))
    def export_personal_data(self, request, queryset):
        from django.http import HttpResponse

        from tickets.privacy import services as privacy

        if queryset.count() != 1:
            self.message_user(request, _("Export one requester at a time."), messages.WARNING)
            return None
        requester = queryset.get()
        try:
            archive = privacy.export_requester(requester, request=request, actor=request.user)
        except PermissionDenied as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return None
        response = HttpResponse(archive, content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="requester-{requester.pk}.zip"'
        return response


@admin.register(Queue)
class QueueAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "kind", "languages", "addresses", "is_default", "auto_acknowledge", "list_mail"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["members"]


# Child-safety content in the admin (docs/wellbeing.md) ------------------------------------------------
# Admins manage the structure: they see that a child-safety ticket exists (number, queue, status, hold),
# never its subject, messages, raw mail, events, notes or notices unless the visibility rule lets them read
# it (Trust & Safety). Every opening of such a ticket in the admin is logged in the sensitive access log.


def unreadable_child_safety(request):
    """Ids of the child-safety tickets the user may not read, as a subquery (kept for the request)."""
    if not hasattr(request, "_acolhe_unreadable_child_safety"):
        from tickets import selectors

        request._acolhe_unreadable_child_safety = (
            Ticket.objects.filter(sensitivity__contains=["child_safety"])
            .exclude(pk__in=selectors.tickets_visible_to(request.user).values("pk"))
            .values("pk")
        )
    return request._acolhe_unreadable_child_safety


class ReadOnlyAdmin(admin.ModelAdmin):
    """Logs nobody writes by hand and nobody rewrites: shown, never added, changed or deleted."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class HidesUnreadableChildSafety:
    """Records about a ticket are left out for a user who may not read the ticket's child-safety content."""

    ticket_paths: tuple[str, ...] = ("ticket",)

    def get_queryset(self, request):
        hidden = unreadable_child_safety(request)
        scope = Q()
        for path in self.ticket_paths:
            scope |= Q(**{f"{path}__in": hidden})
        return super().get_queryset(request).exclude(scope)


class MessageInline(admin.StackedInline):
    model = Message
    extra = 0
    readonly_fields = ("direction", "from_address", "subject", "body_text", "delivery_status", "created_at")
    fields = readonly_fields
    can_delete = False
    show_change_link = True


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = ["number", "shown_subject", "status", "priority", "language", "queue", "assignee", "created_at"]
    list_filter = ["status", "priority", "language", "queue"]
    search_fields = ["=number", "subject", "requester__email"]
    raw_id_fields = ["requester", "assignee", "merged_into", "follow_up_of"]
    readonly_fields = ["number"]
    list_select_related = ["queue", "assignee"]
    inlines = [MessageInline]

    def _unreadable(self, request, obj) -> bool:
        return obj is not None and unreadable_child_safety(request).filter(pk=obj.pk).exists()

    @admin.display(description=_("subject"), ordering="subject")
    def shown_subject(self, obj):
        return (
            _("Sensitive content: %(categories)s") % {"categories": _("child safety")}
            if ("child_safety" in obj.sensitivity)
            else obj.subject
        )

    def get_search_results(self, request, queryset, search_term):
        # A subject search would tell what a masked subject says.
        queryset, duplicates = super().get_search_results(request, queryset, search_term)
        if search_term.strip() and not search_term.strip().isdigit():
            queryset = queryset.exclude(pk__in=unreadable_child_safety(request))
        return queryset, duplicates

    def get_inlines(self, request, obj):
        return [] if self._unreadable(request, obj) else super().get_inlines(request, obj)

    def get_exclude(self, request, obj=None):
        excluded = list(super().get_exclude(request, obj) or [])
        return [*excluded, "subject"] if self._unreadable(request, obj) else excluded

    def change_view(self, request, object_id, form_url="", extra_context=None):
        ticket = self.get_object(request, object_id)
        if ticket is not None and "child_safety" in ticket.sensitivity:
            from tickets.models import SensitiveAccessLog

            SensitiveAccessLog.objects.create(
                user=request.user, ticket=ticket, kind=SensitiveAccessLog.Kind.VIEW, detail=f"admin {request.method}"
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def has_delete_permission(self, request, obj=None):
        # A ticket under legal hold cannot be deleted (the database refuses too); lift the hold first.
        return not (obj is not None and obj.legal_hold) and super().has_delete_permission(request, obj)


class AttachmentInline(admin.TabularInline):
    model = Attachment
    extra = 0
    readonly_fields = [
        "filename",
        "content_type",
        "size",
        "content_id",
        "is_inline",
        "omitted_reason",
        "file",
    ]


@admin.register(Message)
class MessageAdmin(HidesUnreadableChildSafety, admin.ModelAdmin):
    list_display = ["pk", "ticket", "direction", "from_address", "delivery_status", "created_at"]
    list_filter = ["direction", "delivery_status"]
    search_fields = ["message_id", "from_address", "subject"]
    raw_id_fields = ["ticket", "author", "inbound_email"]
    inlines = [AttachmentInline]


@admin.register(TicketEvent)
class TicketEventAdmin(HidesUnreadableChildSafety, admin.ModelAdmin):
    list_display = ["ticket", "kind", "actor", "created_at"]
    list_filter = ["kind"]
    raw_id_fields = ["ticket", "actor", "message"]

    # The event log is append-only, for admins too.
    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(InboundEmail)
class InboundEmailAdmin(HidesUnreadableChildSafety, admin.ModelAdmin):
    """Failed, ignored and spam mail with the reason, the raw source and a re-process action."""

    ticket_paths = ("ticket", "message__ticket")

    list_display = [
        "received_at",
        "esp",
        "status",
        "message_id",
        "envelope_recipient",
        "short_reason",
        "attempts",
    ]
    list_filter = ["status", "esp"]
    search_fields = ["message_id", "envelope_recipient", "envelope_sender", "reason"]
    readonly_fields = [
        "esp", "raw_source", "raw_sha256", "dedupe_key", "message_id", "envelope_recipient", "envelope_sender",
        "spam_detected", "spam_score", "received_at", "status", "reason", "attempts", "processed_at", "ticket",
    ]  # fmt: skip
    exclude = ["raw"]
    actions = ["reprocess"]

    @admin.display(description=_("reason"))
    def short_reason(self, obj):
        return obj.reason[:120]

    @admin.display(description=_("raw source"))
    def raw_source(self, obj):
        from django.utils.html import format_html

        return format_html(
            "<pre style='white-space:pre-wrap;max-height:40em;overflow:auto'>{}</pre>",
            bytes(obj.raw).decode("utf-8", "replace"),
        )

    @admin.action(description=_("Re-process the selected mail"))
    def reprocess(self, request, queryset):
        from tickets.email.inbound import reprocess

        counts = reprocess(queryset.values_list("pk", flat=True))
        self.message_user(request, _("Re-processed: %(summary)s") % {"summary": counts}, messages.INFO)

    def has_add_permission(self, request):
        return False


# SLA and escalations ---------------------------------------------------------------------------------
from tickets.models import (  # noqa: E402
    Escalation,
    EscalationRule,
    EscalationRuleFiring,
    Notification,
    SlaAlert,
    SlaPolicy,
)


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    form = SlaPolicyForm
    list_display = [
        "name",
        "queue",
        "priority",
        "first_response_minutes",
        "next_response_minutes",
        "resolution_minutes",
        "warning_percent",
        "time_zone",
        "is_active",
    ]
    list_filter = ["is_active", "queue", "priority"]
    search_fields = ["name"]


@admin.register(SlaAlert)
class SlaAlertAdmin(admin.ModelAdmin):
    list_display = ["ticket", "clock", "kind", "cycle", "due_at", "recorded_at", "queue"]
    list_filter = ["kind", "clock", "queue"]
    raw_id_fields = ["ticket"]

    # Alerts are facts the sweep recorded; they are not edited by hand.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(EscalationRule)
class EscalationRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "position", "trigger", "clock", "is_active", "escalate_to_queue", "raise_priority_to"]
    list_editable = ["position", "is_active"]
    list_filter = ["is_active", "trigger"]
    filter_horizontal = ["queues"]
    raw_id_fields = ["assign_to"]
    fieldsets = [
        (None, {"fields": ["name", "position", "is_active", "trigger", "stop_processing"]}),
        (
            _("Conditions"),
            {"fields": ["clock", "queues", "priorities", "tags", "sensitivity", "languages", "no_reply_hours"]},
        ),
        (
            _("Actions"),
            {
                "fields": [
                    "raise_priority_to",
                    "notify_team_lead",
                    "assign_to",
                    "move_to_queue",
                    "escalate_to_queue",
                    "add_tags",
                ]
            },
        ),
    ]


@admin.register(EscalationRuleFiring)
class EscalationRuleFiringAdmin(admin.ModelAdmin):
    list_display = ["rule", "ticket", "trigger", "fired_at"]
    raw_id_fields = ["ticket"]


@admin.register(Escalation)
class EscalationAdmin(HidesUnreadableChildSafety, admin.ModelAdmin):
    list_display = ["ticket", "target_queue", "status", "requested_by", "due_at", "created_at", "handed_back_at"]
    list_filter = ["status", "target_queue"]
    raw_id_fields = ["ticket", "requested_by", "return_to", "handed_back_by", "rule"]


@admin.register(Notification)
class NotificationAdmin(HidesUnreadableChildSafety, admin.ModelAdmin):
    list_display = ["user", "kind", "text", "created_at", "read_at"]
    list_filter = ["kind"]
    raw_id_fields = ["user", "ticket"]


class AdminsOnlyReadOnlyAdmin(ReadOnlyAdmin):
    """A read-only log that only admins see at all."""

    def has_module_permission(self, request):
        from tickets.selectors import is_admin

        return is_admin(request.user)

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)


@admin.register(AuditLog)
class AuditLogAdmin(AdminsOnlyReadOnlyAdmin):
    """Read-only, and only for admins: the log of exports, erasures, purges and sensitive reads."""

    list_display = ["created_at", "actor_label", "action", "target", "ip_address"]
    list_filter = ["action"]
    search_fields = ["=target", "actor_label"]
    date_hierarchy = "created_at"
    readonly_fields = ["created_at", "actor", "actor_label", "action", "target", "detail", "ip_address"]


ASSIST_OUTPUT_FIELDS = ("created_at", "ticket", "kind", "actor", "provider", "model", "language", "text")


@admin.register(AssistOutput)
class AssistOutputAdmin(AdminsOnlyReadOnlyAdmin):
    """Read-only, for admins: what the assistant answered, on the tickets the admin may open (a child-safety
    ticket's answers only for Trust & Safety, as the ticket itself)."""

    list_display = ["created_at", "ticket", "kind", "actor", "provider", "model"]
    list_filter = ["kind"]
    date_hierarchy = "created_at"
    fields = ASSIST_OUTPUT_FIELDS
    readonly_fields = ASSIST_OUTPUT_FIELDS

    def get_queryset(self, request):
        from tickets.selectors import assist_outputs_visible_to

        return assist_outputs_visible_to(request.user).select_related("ticket", "actor")


# Associate wellbeing ----------------------------------------------------------------------------------------

from tickets.models import ExposureBudget, FlagClearance, SensitiveAccessLog, TeamWellbeingPolicy  # noqa: E402


@admin.register(ExposureBudget)
class ExposureBudgetAdmin(admin.ModelAdmin):
    list_display = ["user", "per_shift", "minutes_per_shift", "break_after", "intake_paused_at"]
    fields = ["user", "per_shift", "minutes_per_shift", "break_after", "intake_paused_at"]
    search_fields = ["user__username"]
    raw_id_fields = ["user"]


@admin.register(TeamWellbeingPolicy)
class TeamWellbeingPolicyAdmin(admin.ModelAdmin):
    list_display = ["team", "tickets_per_shift", "minutes_per_shift", "break_every_minutes"]
    fields = ["team", "tickets_per_shift", "minutes_per_shift", "break_every_minutes", "support_resources"]


@admin.register(SensitiveAccessLog)
class SensitiveAccessLogAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "user", "ticket", "kind", "attachment"]
    list_filter = ["kind"]
    search_fields = ["=ticket__number", "user__username"]
    raw_id_fields = ["user", "ticket", "attachment"]


@admin.register(FlagClearance)
class FlagClearanceAdmin(HidesUnreadableChildSafety, admin.ModelAdmin):
    list_display = ["cleared_at", "ticket", "category", "cleared_by", "note"]
    list_filter = ["category"]
    raw_id_fields = ["ticket", "cleared_by"]
