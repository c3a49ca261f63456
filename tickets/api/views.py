"""The tickets API. Every queryset comes from a selector, so the API sees what the pages see, and a read of
a sensitive ticket or its messages counts towards the reader's exposure as a page view does."""

from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.response import Response

from tickets import selectors
from tickets.api.serializers import (
    MessageSerializer,
    QueueSerializer,
    TicketDetailSerializer,
    TicketSerializer,
)
from tickets.models import Message
from tickets.wellbeing.services import record_api_read
from tickets.workspace.api import TicketWorkspaceActions


class QueueViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = QueueSerializer
    lookup_field = "slug"
    pagination_class = None

    def get_queryset(self):
        return selectors.queues_with_open_counts(self.request.user)


@extend_schema_view(
    list=extend_schema(description=_("The tickets of your queues, newest first, with filters.")),
    retrieve=extend_schema(description=_("One ticket with its messages and attachments.")),
)
class TicketViewSet(TicketWorkspaceActions, viewsets.ReadOnlyModelViewSet):
    lookup_field = "number"
    filterset_fields = ["status", "priority", "language", "queue__slug", "assignee"]
    ordering = "-created_at"

    def get_serializer_class(self):
        return TicketDetailSerializer if self.action == "retrieve" else TicketSerializer

    def get_object(self):
        ticket = super().get_object()
        if self.action == "retrieve":
            # The detail carries every message: a read like the ticket page (exposure, child-safety log).
            record_api_read(self.request.user, [ticket])
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

    def get_object(self):
        message = super().get_object()
        record_api_read(self.request.user, [message.ticket])
        return message

    def list(self, request, *args, **kwargs):
        # A page of messages is a read of each ticket they belong to, counted once per response.
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        messages = list(queryset) if page is None else page
        record_api_read(request.user, [message.ticket for message in messages])
        serializer = self.get_serializer(messages, many=True)
        return Response(serializer.data) if page is None else self.get_paginated_response(serializer.data)
