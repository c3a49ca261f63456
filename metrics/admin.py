from django.contrib import admin

from metrics.models import (
    Calibration,
    Criterion,
    CsatSurvey,
    DailyStats,
    QaAssignment,
    QueueDay,
    Review,
    ReviewAnswer,
    Scorecard,
)


class CriterionInline(admin.TabularInline):
    model = Criterion
    extra = 1


@admin.register(Scorecard)
class ScorecardAdmin(admin.ModelAdmin):
    list_display = ["name", "is_active", "created_at"]
    inlines = [CriterionInline]


class ReviewAnswerInline(admin.TabularInline):
    model = ReviewAnswer
    extra = 0
    readonly_fields = ["criterion", "rating", "comment"]


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ["ticket", "associate", "reviewer", "score", "calibration", "created_at"]
    list_filter = ["scorecard"]
    raw_id_fields = ["ticket", "associate", "reviewer", "calibration"]
    inlines = [ReviewAnswerInline]


@admin.register(QaAssignment)
class QaAssignmentAdmin(admin.ModelAdmin):
    list_display = ["week", "ticket", "associate", "reviewer", "review"]
    list_filter = ["week"]
    raw_id_fields = ["ticket", "associate", "reviewer", "review", "calibration"]


@admin.register(Calibration)
class CalibrationAdmin(admin.ModelAdmin):
    list_display = ["ticket", "associate", "scorecard", "created_by", "created_at"]
    raw_id_fields = ["ticket", "associate", "created_by"]


@admin.register(CsatSurvey)
class CsatSurveyAdmin(admin.ModelAdmin):
    list_display = ["ticket", "associate", "language", "sent_at", "rating", "answered_at"]
    list_filter = ["rating", "language"]
    raw_id_fields = ["ticket", "associate"]


@admin.register(DailyStats)
class DailyStatsAdmin(admin.ModelAdmin):
    list_display = ["day", "associate", "queue", "language", "solved", "replies_sent", "handle_seconds"]
    list_filter = ["day", "queue", "language"]
    raw_id_fields = ["associate"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # rebuilt by the rollups


@admin.register(QueueDay)
class QueueDayAdmin(admin.ModelAdmin):
    list_display = ["day", "queue", "language", "backlog", "unassigned", "sla_breaches"]
    list_filter = ["day", "queue"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False
