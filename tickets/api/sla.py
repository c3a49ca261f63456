"""SLA policies, escalation rules and escalations over the API. Team leads read the configuration, admins
change it; escalations follow ticket visibility, and hand back is for the specialist team."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from tickets import escalations, selectors
from tickets.models import Escalation, EscalationRule, Queue, Role, SlaPolicy
from tickets.sla.calendar import Calendar


def _drf_error(exc: DjangoValidationError) -> serializers.ValidationError:
    return serializers.ValidationError(exc.messages)


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


class EscalationRuleSerializer(serializers.ModelSerializer):
    queues = serializers.SlugRelatedField(slug_field="slug", queryset=Queue.objects.all(), many=True, required=False)
    move_to_queue = serializers.SlugRelatedField(
        slug_field="slug", queryset=Queue.objects.all(), allow_null=True, required=False
    )
    escalate_to_queue = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Queue.objects.filter(kind=Queue.Kind.CROSS_FUNCTIONAL),
        allow_null=True,
        required=False,
    )

    class Meta:
        model = EscalationRule
        fields = [
            "id", "name", "position", "is_active", "trigger", "clock", "queues", "priorities", "tags",
            "sensitivity", "languages", "no_reply_hours", "raise_priority_to", "notify_team_lead", "assign_to",
            "move_to_queue", "escalate_to_queue", "add_tags", "stop_processing", "created_at",
        ]  # fmt: skip
        read_only_fields = ["created_at"]


class EscalationRuleViewSet(viewsets.ModelViewSet):
    serializer_class = EscalationRuleSerializer
    permission_classes = [LeadsReadAdminsWrite]
    pagination_class = None
    queryset = EscalationRule.objects.prefetch_related("queues").order_by("position", "id")
    filterset_fields = ["is_active", "trigger"]


class EscalationSerializer(serializers.ModelSerializer):
    ticket: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="number", read_only=True)
    from_queue: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    target_queue: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Escalation
        fields = [
            "id", "ticket", "from_queue", "target_queue", "reason", "status", "requested_by", "rule", "return_to",
            "due_at", "breached_at", "created_at", "handed_back_by", "handed_back_at", "resolution_note",
        ]  # fmt: skip
        read_only_fields = fields


class EscalateSerializer(serializers.Serializer):
    ticket = serializers.IntegerField(help_text="The ticket number.")
    target_queue = serializers.SlugRelatedField(
        slug_field="slug", queryset=Queue.objects.filter(kind=Queue.Kind.CROSS_FUNCTIONAL)
    )
    reason = serializers.CharField()


class HandBackSerializer(serializers.Serializer):
    note = serializers.CharField()


class EscalationViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """POST {ticket, target_queue, reason} escalates; POST .../{id}/hand_back/ {note} hands back."""

    serializer_class = EscalationSerializer
    filterset_fields = ["status", "target_queue__slug"]
    ordering = "-created_at"

    def get_queryset(self):
        return escalations.escalations_visible_to(self.request.user).select_related(
            "ticket", "from_queue", "target_queue"
        )

    def get_serializer_class(self):
        return {"create": EscalateSerializer, "hand_back": HandBackSerializer}.get(self.action, EscalationSerializer)

    def create(self, request, *args, **kwargs):
        form = EscalateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        ticket = get_object_or_404(selectors.tickets_visible_to(request.user), number=form.validated_data["ticket"])
        try:
            escalation = escalations.escalate(
                ticket,
                target_queue=form.validated_data["target_queue"],
                reason=form.validated_data["reason"],
                actor=request.user,
            )
        except DjangoValidationError as exc:
            raise _drf_error(exc) from exc
        return Response(EscalationSerializer(escalation).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def hand_back(self, request, pk=None):
        escalation = self.get_object()
        form = HandBackSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            escalation = escalations.hand_back(escalation.pk, actor=request.user, note=form.validated_data["note"])
        except DjangoValidationError as exc:
            raise _drf_error(exc) from exc
        return Response(EscalationSerializer(escalation).data)
