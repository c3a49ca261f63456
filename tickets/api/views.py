"""The tickets API. Every queryset comes from a selector, so the API sees what the pages see."""

from django.db.models import Prefetch
from rest_framework import viewsets

from tickets import selectors
from tickets.api.serializers import (
    MessageSerializer,
    QueueSerializer,
    TicketDetailSerializer,
    TicketSerializer,
)
from tickets.models import Message
from tickets.workspace.api import TicketWorkspaceActions


class QueueViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = QueueSerializer
    lookup_field = "slug"
    pagination_class = None

    def get_queryset(self):
        return selectors.queues_with_open_counts(self.request.user)


class TicketViewSet(TicketWorkspaceActions, viewsets.ReadOnlyModelViewSet):
    lookup_field = "number"
    filterset_fields = ["status", "priority", "language", "queue__slug", "assignee"]
    ordering = "-created_at"

    def get_serializer_class(self):
        return TicketDetailSerializer if self.action == "retrieve" else TicketSerializer

    def get_object(self):
        ticket = super().get_object()
        if self.action == "retrieve":
            from tickets.wellbeing.services import log_child_safety_access

            log_child_safety_access(self.request.user, ticket)
        return ticket

    def get_queryset(self):
        queryset = selectors.tickets_visible_to(self.request.user).select_related("queue", "requester")
        if self.action == "retrieve":
            queryset = queryset.prefetch_related(
                Prefetch("messages", queryset=Message.objects.prefetch_related("attachments"))
            )
        return queryset


class MessageViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = MessageSerializer
    filterset_fields = ["direction", "delivery_status"]
    ordering = "-created_at"

    def get_queryset(self):
        return (
            Message.objects.filter(ticket__in=selectors.tickets_visible_to(self.request.user))
            .select_related("ticket")
            .prefetch_related("attachments")
        )
