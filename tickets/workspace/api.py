"""Workspace actions on the tickets API: search, reply, note, change fields, next ticket, merge.

They call the same services as the pages, so the same permission rules apply: a ticket outside the
caller's queues answers 404 on reads and 403 on writes, exactly as the pages do.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from tickets import extensions
from tickets.api.serializers import MessageSerializer, TicketSerializer
from tickets.models import Language, Queue, Ticket
from tickets.workspace import routing, search, services


class ReplyInputSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=100_000, label=_("Message"))
    set_status = serializers.ChoiceField(
        choices=[(s.value, s.label) for s in services.REPLY_STATUSES], required=False, label=_("Then set the status to")
    )
    seen_message = serializers.IntegerField(
        required=False,
        label=_("Newest message seen"),
        help_text=_("Id of the newest message the writer has seen; newer replies by others conflict."),
    )
    confirmed = serializers.BooleanField(
        default=False, label=_("Send anyway"), help_text=_("Send even if someone else replied meanwhile.")
    )
    macro = serializers.IntegerField(
        required=False,
        min_value=1,
        label=_("Macro"),
        help_text=_(
            "Id of a shared or own macro whose actions (status, priority, tags, queue) apply with the reply, "
            "in the same transaction and with the same permission checks; its status replaces set_status."
        ),
    )


class FieldsInputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Ticket.Status.choices, required=False, label=_("Status"))
    priority = serializers.ChoiceField(choices=Ticket.Priority.choices, required=False, label=_("Priority"))
    language = serializers.ChoiceField(choices=Language.choices, required=False, label=_("Language"))
    queue = serializers.SlugRelatedField(
        slug_field="slug", queryset=Queue.objects.all(), required=False, label=_("Queue")
    )
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.filter(is_active=True), required=False, allow_null=True, label=_("Assignee")
    )
    tags = serializers.ListField(child=serializers.CharField(max_length=50), required=False, label=_("Tags"))
    subject = serializers.CharField(max_length=500, required=False, label=_("Subject"))


class MergeInputSerializer(serializers.Serializer):
    into = serializers.IntegerField(min_value=1, label=_("Merge into"), help_text=_("Number of the ticket that stays."))
    restrict_target = serializers.BooleanField(
        default=False,
        label=_("Restrict the ticket that stays"),
        help_text=_(
            "Required to merge child-safety content into a ticket without it: that ticket becomes restricted "
            "to Trust & Safety and goes under legal hold."
        ),
    )


class SearchHitSerializer(serializers.Serializer):
    ticket = TicketSerializer()
    rank = serializers.FloatField()
    snippet = serializers.CharField(
        help_text=_(
            "HTML: escaped text with <mark> around the matches; empty for a ticket flagged as sensitive, as on "
            "the search page."
        )
    )


class ConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    messages = MessageSerializer(many=True)


class TicketWorkspaceActions:
    """Mixed into `TicketViewSet`."""

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, required=True, description=_("Words, a phrase in quotes, or an address.")),
            OpenApiParameter("offset", int, description=_("How many results to skip.")),
        ],
        responses=SearchHitSerializer(many=True),
        description=_(
            "Full-text search over subjects, message bodies and requester addresses (Portuguese and English)."
        ),
    )
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def search(self, request):
        try:
            offset = max(0, int(request.query_params.get("offset", 0)))
        except ValueError:
            offset = 0
        hits, has_more = search.search_tickets(request.user, request.query_params.get("q", ""), offset=offset)
        data = SearchHitSerializer(
            [
                {"ticket": h.ticket, "rank": h.rank, "snippet": "" if h.ticket.sensitivity else str(h.snippet)}
                for h in hits
            ],
            many=True,
        ).data
        return Response(data, headers={"X-Has-More": "true" if has_more else "false"})

    def _reply(self, request, number, internal: bool):
        serializer = ReplyInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            result = extensions.reply(
                int(number),
                data["body"],
                actor=request.user,
                macro_id=data.get("macro"),
                internal=internal,
                set_status=data.get("set_status"),
                seen_message_id=data.get("seen_message"),
                confirmed=data["confirmed"],
            )
        except services.ReplyConflict as conflict:
            body = {
                "detail": "Someone else wrote on this ticket since seen_message; resend with confirmed=true.",
                "messages": MessageSerializer(conflict.messages, many=True, context={"request": request}).data,
            }
            return Response(body, status=status.HTTP_409_CONFLICT)
        return Response(
            MessageSerializer(result.message, context={"request": request}).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        request=ReplyInputSerializer,
        responses={201: MessageSerializer, 409: ConflictSerializer},
        description=_("Email the requester (queued, sent by a worker) and optionally set the status in the same step."),
    )
    @action(detail=True, methods=["post"])
    def reply(self, request, number=None):
        return self._reply(request, number, internal=False)

    @extend_schema(
        request=ReplyInputSerializer,
        responses={201: MessageSerializer, 409: ConflictSerializer},
        description=_("Add an internal note, never sent to the requester."),
    )
    @action(detail=True, methods=["post"])
    def note(self, request, number=None):
        return self._reply(request, number, internal=True)

    @extend_schema(
        request=FieldsInputSerializer,
        responses=TicketSerializer,
        description=_("Change status, priority, language, queue, assignee, tags or subject; each change is logged."),
    )
    def partial_update(self, request, number=None):
        serializer = FieldsInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ticket, _events = services.update_fields(int(number), **serializer.validated_data, actor=request.user)
        return Response(TicketSerializer(ticket, context={"request": request}).data)

    @extend_schema(
        request=None,
        responses={200: TicketSerializer, 204: None},
        description=_("Assign the caller the most urgent eligible ticket; 204 when none is waiting."),
    )
    @action(detail=False, methods=["post"], url_path="next")
    def next_ticket(self, request):
        ticket = routing.assign_next(request.user)
        if ticket is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(TicketSerializer(ticket, context={"request": request}).data)

    @extend_schema(
        request=MergeInputSerializer,
        responses=TicketSerializer,
        description=_("Merge this ticket into `into`: messages move, this one closes, its requester is told."),
    )
    @action(detail=True, methods=["post"])
    def merge(self, request, number=None):
        serializer = MergeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        target = services.merge(
            int(number),
            serializer.validated_data["into"],
            restrict_target=serializer.validated_data["restrict_target"],
            actor=request.user,
        )
        return Response(TicketSerializer(target, context={"request": request}).data)
