from rest_framework import serializers

from metrics.definitions import SUM_FIELDS, Summary
from metrics.models import Criterion, CsatSurvey, DailyStats, Review, ReviewAnswer, Scorecard


class DailyStatsSerializer(serializers.ModelSerializer):
    associate: serializers.StringRelatedField = serializers.StringRelatedField()
    queue: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    derived = serializers.SerializerMethodField()

    class Meta:
        model = DailyStats
        fields = ["id", "day", "associate_id", "associate", "queue", "language", "team_id", *SUM_FIELDS, "derived"]

    def get_derived(self, row: DailyStats) -> dict:
        return Summary({name: getattr(row, name) for name in SUM_FIELDS}).as_dict()


class CriterionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Criterion
        fields = ["id", "position", "name", "description", "weight"]


class ScorecardSerializer(serializers.ModelSerializer):
    criteria = CriterionSerializer(many=True, read_only=True)

    class Meta:
        model = Scorecard
        fields = ["id", "name", "is_active", "criteria"]


class ReviewAnswerSerializer(serializers.ModelSerializer):
    criterion = serializers.PrimaryKeyRelatedField(queryset=Criterion.objects.all())

    class Meta:
        model = ReviewAnswer
        fields = ["criterion", "rating", "comment"]


class ReviewSerializer(serializers.ModelSerializer):
    ticket = serializers.IntegerField(source="ticket.number")
    answers = ReviewAnswerSerializer(many=True)
    reviewer: serializers.StringRelatedField = serializers.StringRelatedField(read_only=True)

    class Meta:
        model = Review
        fields = [
            "id", "ticket", "associate", "reviewer", "scorecard", "calibration", "score", "comment", "answers",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["id", "reviewer", "score", "calibration", "created_at", "updated_at"]


class CsatSurveySerializer(serializers.ModelSerializer):
    ticket = serializers.IntegerField(source="ticket.number", read_only=True)

    class Meta:
        model = CsatSurvey
        fields = ["id", "ticket", "associate", "language", "sent_at", "rating", "comment", "answered_at", "changed_at"]
        read_only_fields = fields
