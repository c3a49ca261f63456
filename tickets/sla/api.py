"""SLA policies over the API: team leads read them, admins change them."""

from rest_framework import permissions, serializers, viewsets

from tickets import selectors
from tickets.models import Queue, Role, SlaPolicy
from tickets.sla.calendar import Calendar


class LeadsReadAdminsWrite(permissions.BasePermission):
    def has_permission(self, request, view):
        user = request.user
        if not user.is_authenticated:
            return False
        if request.method in permissions.SAFE_METHODS:
            return selectors.is_admin(user) or selectors.has_role(user, Role.TEAM_LEAD)
        return selectors.is_admin(user)


class SlaPolicySerializer(serializers.ModelSerializer):
    queue = serializers.SlugRelatedField(
        slug_field="slug", queryset=Queue.objects.all(), allow_null=True, required=False
    )

    class Meta:
        model = SlaPolicy
        fields = [
            "id", "name", "queue", "priority", "first_response_minutes", "next_response_minutes",
            "resolution_minutes", "warning_percent", "time_zone", "business_hours", "holidays", "is_active",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["created_at", "updated_at"]

    def validate(self, attrs):
        current = self.instance
        try:
            Calendar.parse(
                attrs.get("time_zone", current.time_zone if current else "America/Sao_Paulo"),
                attrs.get("business_hours", current.business_hours if current else {}),
                attrs.get("holidays", current.holidays if current else []),
            )
        except ValueError as exc:
            raise serializers.ValidationError({"business_hours": [str(exc)]}) from exc
        percent = attrs.get("warning_percent", current.warning_percent if current else 75)
        if not 1 <= percent <= 99:
            raise serializers.ValidationError({"warning_percent": ["Between 1 and 99."]})
        return attrs


class SlaPolicyViewSet(viewsets.ModelViewSet):
    serializer_class = SlaPolicySerializer
    permission_classes = [LeadsReadAdminsWrite]
    pagination_class = None
    queryset = SlaPolicy.objects.select_related("queue").order_by("pk")
    filterset_fields = ["is_active", "priority"]
