"""The metrics API: rollups, QA scorecards and reviews, CSAT answers. Reads go through the selectors, writes
through the services, as on the pages."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.exceptions import PermissionDenied, ValidationError

from helpdesk.pagination import CheckedCursorPagination
from metrics import selectors, services
from metrics.api.serializers import CsatSurveySerializer, DailyStatsSerializer, ReviewSerializer, ScorecardSerializer
from metrics.models import CsatSurvey, DailyStats
from tickets import selectors as ticket_selectors


class ByDayPagination(CheckedCursorPagination):
    ordering = ("-day", "-id")
    page_size_query_param = "page_size"
    max_page_size = 1000


class DailyStatsFilter(filters.FilterSet):
    day_from = filters.DateFilter(field_name="day", lookup_expr="gte")
    day_to = filters.DateFilter(field_name="day", lookup_expr="lte")

    class Meta:
        model = DailyStats
        fields = ["day_from", "day_to", "associate", "queue", "language", "team"]


@extend_schema_view(
    list=extend_schema(
        description=_(
            "Daily rollup rows (sums and counts) with their derived metrics; leads see their teams, associates "
            "themselves."
        )
    ),
    retrieve=extend_schema(description=_("One daily rollup row with its derived metrics.")),
)
class DailyStatsViewSet(viewsets.ReadOnlyModelViewSet):
    """Daily rollup rows (sums and counts) with their derived metrics; leads see their teams, associates
    themselves."""

    serializer_class = DailyStatsSerializer
    filterset_class = DailyStatsFilter
    pagination_class = ByDayPagination

    def get_queryset(self):
        return selectors.stats_visible_to(self.request.user).select_related("associate", "queue")


class ScorecardViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ScorecardSerializer
    pagination_class = None

    def get_queryset(self):
        return selectors.active_scorecards()


class ReviewViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = ReviewSerializer
    filterset_fields = ["associate", "reviewer", "scorecard"]

    def get_queryset(self):
        return selectors.reviews_visible_to(self.request.user).prefetch_related("answers")

    def perform_create(self, serializer):
        data = serializer.validated_data
        ticket = ticket_selectors.ticket_for(self.request.user, data["ticket"]["number"])
        if ticket is None:
            raise ValidationError({"ticket": "not found"})
        ratings = {a["criterion"].pk: (a["rating"], a.get("comment", "")) for a in data["answers"]}
        try:
            serializer.instance = services.submit_review(
                ticket=ticket,
                associate=data["associate"],
                scorecard=data["scorecard"],
                ratings=ratings,
                comment=data.get("comment", ""),
                actor=self.request.user,
            )
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from exc


class CsatSurveyFilter(filters.FilterSet):
    answered = filters.BooleanFilter(field_name="answered_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = CsatSurvey
        fields = ["associate", "rating", "language", "answered"]


class CsatPagination(CheckedCursorPagination):
    ordering = ("-sent_at", "-id")


class CsatSurveyViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = CsatSurveySerializer
    filterset_class = CsatSurveyFilter
    pagination_class = CsatPagination

    def get_queryset(self):
        return selectors.csat_visible_to(self.request.user)
