from rest_framework import serializers

from sop.models import SOP, Acknowledgement, ChecklistStep, Macro, SOPVersion
from tickets.models import Queue


class ChecklistStepSerializer(serializers.ModelSerializer):
    class Meta:
        model = ChecklistStep
        fields = ["id", "position", "text", "required"]
        read_only_fields = ["id", "position"]


class SOPSerializer(serializers.ModelSerializer):
    queues = serializers.SlugRelatedField(slug_field="slug", many=True, queryset=Queue.objects.all(), required=False)
    current_versions = serializers.SerializerMethodField()

    class Meta:
        model = SOP
        fields = ["id", "slug", "title", "category", "queues", "tags", "is_active", "created_at", "current_versions"]
        read_only_fields = ["id", "created_at", "current_versions"]

    def get_current_versions(self, sop: SOP) -> dict[str, int]:
        return {version.language: version.pk for version in sop.versions.all() if version.is_current}


class SOPVersionSerializer(serializers.ModelSerializer):
    sop = serializers.SlugRelatedField(slug_field="slug", queryset=SOP.objects.all())
    steps = ChecklistStepSerializer(many=True, required=False)
    author: serializers.StringRelatedField = serializers.StringRelatedField()

    class Meta:
        model = SOPVersion
        fields = [
            "id", "sop", "language", "number", "title", "body", "body_html", "steps", "change_summary",
            "must_read", "status", "is_current", "counterpart", "author", "created_at", "published_at",
        ]  # fmt: skip
        read_only_fields = [
            "id", "number", "body_html", "status", "is_current", "counterpart", "author", "created_at", "published_at",
        ]  # fmt: skip


class SOPVersionUpdateSerializer(SOPVersionSerializer):
    class Meta(SOPVersionSerializer.Meta):
        read_only_fields = [*SOPVersionSerializer.Meta.read_only_fields, "sop", "language"]


class DiffLineSerializer(serializers.Serializer):
    kind = serializers.CharField()
    text = serializers.CharField()


class AcknowledgementSerializer(serializers.ModelSerializer):
    user: serializers.StringRelatedField = serializers.StringRelatedField()
    sop = serializers.CharField(source="version.sop.slug", read_only=True)
    title = serializers.CharField(source="version.title", read_only=True)
    is_pending = serializers.BooleanField(read_only=True)

    class Meta:
        model = Acknowledgement
        fields = [
            "id", "version", "sop", "title", "user", "requested_at", "acknowledged_at", "reminded_at",
            "reminder_count", "is_pending",
        ]  # fmt: skip
        read_only_fields = fields


class MacroSerializer(serializers.ModelSerializer):
    sop = serializers.SlugRelatedField(slug_field="slug", queryset=SOP.objects.all(), required=False, allow_null=True)
    set_queue = serializers.SlugRelatedField(
        slug_field="slug", queryset=Queue.objects.all(), required=False, allow_null=True
    )
    shared = serializers.BooleanField(source="is_shared", required=False)

    class Meta:
        model = Macro
        fields = [
            "id", "name", "body_pt", "body_en", "sop", "set_status", "set_priority", "add_tags", "set_queue",
            "shared", "is_active", "usage_count", "last_used_at", "created_at",
        ]  # fmt: skip
        read_only_fields = ["id", "usage_count", "last_used_at", "created_at"]

    def validate(self, attrs):
        body_pt = attrs.get("body_pt", getattr(self.instance, "body_pt", ""))
        body_en = attrs.get("body_en", getattr(self.instance, "body_en", ""))
        if not (body_pt.strip() or body_en.strip()):
            raise serializers.ValidationError("Write the body in at least one language.")
        return attrs


class RenderedMacroSerializer(serializers.Serializer):
    text = serializers.CharField()
    language = serializers.CharField()
    fell_back = serializers.BooleanField()
    missing = serializers.ListField(child=serializers.CharField())
    unknown = serializers.ListField(child=serializers.CharField())
