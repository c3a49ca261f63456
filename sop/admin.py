from django.contrib import admin

from sop.models import SOP, Acknowledgement, ChecklistStep, Macro, SOPVersion


class SOPVersionInline(admin.TabularInline):
    model = SOPVersion
    readonly_fields = ("language", "number", "title", "status", "is_current", "must_read", "published_at")
    fields = readonly_fields
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(SOP)
class SOPAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "category", "is_active"]
    list_filter = ["category", "is_active", "queues"]
    search_fields = ["title", "slug", "tags"]
    prepopulated_fields = {"slug": ["title"]}
    filter_horizontal = ["queues"]
    inlines = [SOPVersionInline]


class ChecklistStepInline(admin.TabularInline):
    model = ChecklistStep
    extra = 0


@admin.register(SOPVersion)
class SOPVersionAdmin(admin.ModelAdmin):
    """Read-mostly: versions are written and published from the SOP pages, where the rules live."""

    list_display = ["sop", "language", "number", "title", "status", "is_current", "must_read", "published_at"]
    list_filter = ["language", "status", "is_current", "must_read"]
    search_fields = ["title", "sop__title"]
    readonly_fields = ["sop", "language", "number", "status", "is_current", "published_at", "author", "body_html"]
    inlines = [ChecklistStepInline]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Acknowledgement)
class AcknowledgementAdmin(admin.ModelAdmin):
    list_display = ["version", "user", "requested_at", "acknowledged_at", "reminder_count"]
    list_filter = ["acknowledged_at"]
    search_fields = ["user__username", "version__title"]
    raw_id_fields = ["version", "user"]


@admin.register(Macro)
class MacroAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "sop", "set_status", "set_priority", "usage_count", "is_active"]
    list_filter = ["is_active", "set_status"]
    search_fields = ["name", "body_pt", "body_en"]
    raw_id_fields = ["owner"]
    readonly_fields = ["usage_count", "last_used_at"]
