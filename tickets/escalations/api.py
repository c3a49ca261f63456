"""Escalation rules and escalations over the API. Team leads read the rules, admins change them; escalations
follow ticket visibility, and hand back is for the specialist team."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from tickets import selectors
from tickets.escalations import selectors as escalation_selectors
from tickets.escalations import services as escalations
from tickets.models import Escalation, EscalationRule, Queue
from tickets.sla.api import LeadsReadAdminsWrite


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
    ticket = serializers.IntegerField(label=_("Ticket"), help_text=_("The ticket number."))
    target_queue = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Queue.objects.filter(kind=Queue.Kind.CROSS_FUNCTIONAL),
        label=_("Escalate to"),
        help_text=_("The specialist queue, by its slug."),
    )
    reason = serializers.CharField(label=_("Reason"))


class HandBackSerializer(serializers.Serializer):
    note = serializers.CharField(label=_("Resolution note"))


@extend_schema_view(
    list=extend_schema(description=_("Escalations of the tickets you can see, newest first.")),
    retrieve=extend_schema(description=_("One escalation: where it went, why, and how it ended.")),
    create=extend_schema(description=_("Escalate a ticket to a specialist queue, with the reason.")),
    hand_back=extend_schema(
        description=_("Hand the ticket back to the queue it came from, with a note on what the specialists decided.")
    ),
)
class EscalationViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """POST {ticket, target_queue, reason} escalates; POST .../{id}/hand_back/ {note} hands back."""

    serializer_class = EscalationSerializer
    filterset_fields = ["status", "target_queue__slug"]
    ordering = "-created_at"

    def get_queryset(self):
        return escalation_selectors.escalations_visible_to(self.request.user).select_related(
            "ticket", "from_queue", "target_queue"
        )

    def get_serializer_class(self):
        return {"create": EscalateSerializer, "hand_back": HandBackSerializer}.get(self.action, EscalationSerializer)

    def create(self, request, *args, **kwargs):
        form = EscalateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        ticket = get_object_or_404(selectors.tickets_visible_to(request.user), number=form.validated_data["ticket"])
        escalation = escalations.escalate(
            ticket,
            target_queue=form.validated_data["target_queue"],
            reason=form.validated_data["reason"],
            actor=request.user,
        )
        return Response(EscalationSerializer(escalation).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def hand_back(self, request, pk=None):
        escalation = self.get_object()
        form = HandBackSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        escalation = escalations.hand_back(escalation.pk, actor=request.user, note=form.validated_data["note"])
        return Response(EscalationSerializer(escalation).data)
