from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from tickets.models import (
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

        from tickets import privacy

        if queryset.count() != 1:
            self.message_user(request, _("Export one requester at a time."), messages.WARNING)
            return None
        requester = queryset.get()
        response = HttpResponse(
            privacy.export_requester(requester, request.user, request=request), content_type="application/zip"
        )
        response["Content-Disposition"] = f'attachment; filename="requester-{requester.pk}.zip"'
        return response


@admin.register(Queue)
class QueueAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "kind", "languages", "addresses", "is_default", "auto_acknowledge"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["members"]


class MessageInline(admin.StackedInline):
    model = Message
    extra = 0
    fields = ["direction", "from_address", "subject", "body_text", "delivery_status", "created_at"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = ["number", "subject", "status", "priority", "language", "queue", "assignee", "created_at"]
    list_filter = ["status", "priority", "language", "queue"]
    search_fields = ["=number", "subject", "requester__email"]
    raw_id_fields = ["requester", "assignee", "merged_into", "follow_up_of"]
    readonly_fields = ["number"]
    list_select_related = ["queue", "assignee"]
    inlines = [MessageInline]

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
class MessageAdmin(admin.ModelAdmin):
    list_display = ["pk", "ticket", "direction", "from_address", "delivery_status", "created_at"]
    list_filter = ["direction", "delivery_status"]
    search_fields = ["message_id", "from_address", "subject"]
    raw_id_fields = ["ticket", "author", "inbound_email"]
    inlines = [AttachmentInline]


@admin.register(TicketEvent)
class TicketEventAdmin(admin.ModelAdmin):
    list_display = ["ticket", "kind", "actor", "created_at"]
    list_filter = ["kind"]
    raw_id_fields = ["ticket", "actor", "message"]

    # The event log is append-only, for admins too.
    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(InboundEmail)
class InboundEmailAdmin(admin.ModelAdmin):
    """Failed, ignored and spam mail with the reason, the raw source and a re-process action."""

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
class EscalationAdmin(admin.ModelAdmin):
    list_display = ["ticket", "target_queue", "status", "requested_by", "due_at", "created_at", "handed_back_at"]
    list_filter = ["status", "target_queue"]
    raw_id_fields = ["ticket", "requested_by", "return_to", "handed_back_by", "rule"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "text", "created_at", "read_at"]
    list_filter = ["kind"]
    raw_id_fields = ["user", "ticket"]


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    """Read-only, and only for admins: the log of exports, erasures, purges and sensitive reads."""

    list_display = ["created_at", "actor_label", "action", "target", "ip_address"]
    list_filter = ["action"]
    search_fields = ["=target", "actor_label"]
    date_hierarchy = "created_at"
    readonly_fields = ["created_at", "actor", "actor_label", "action", "target", "detail", "ip_address"]

    def _is_admin(self, request) -> bool:
        from tickets.selectors import is_admin

        return is_admin(request.user)

    def has_module_permission(self, request):
        return self._is_admin(request)

    def has_view_permission(self, request, obj=None):
        return self._is_admin(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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
class SensitiveAccessLogAdmin(admin.ModelAdmin):
    list_display = ["created_at", "user", "ticket", "kind", "attachment"]
    list_filter = ["kind"]
    search_fields = ["=ticket__number", "user__username"]
    raw_id_fields = ["user", "ticket", "attachment"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(FlagClearance)
class FlagClearanceAdmin(admin.ModelAdmin):
    list_display = ["cleared_at", "ticket", "category", "cleared_by", "note"]
    list_filter = ["category"]
    raw_id_fields = ["ticket", "cleared_by"]
