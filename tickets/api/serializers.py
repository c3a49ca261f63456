from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from tickets.models import Attachment, Message, Queue, Requester, Ticket
from tickets.wellbeing.detection import masked_subject


class QueueSerializer(serializers.ModelSerializer):
    open_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Queue
        fields = ["id", "name", "slug", "kind", "languages", "addresses", "open_count"]


class RequesterSerializer(serializers.ModelSerializer):
    class Meta:
        model = Requester
        fields = ["id", "email", "name", "language"]


class AttachmentSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="attachment")
    # In the reader's language, like the page.
    omitted_reason = serializers.CharField(source="omitted_text", read_only=True)

    class Meta:
        model = Attachment
        fields = ["id", "filename", "content_type", "size", "is_inline", "omitted_reason", "url"]


class MessageSerializer(serializers.ModelSerializer):
    attachments = AttachmentSerializer(many=True, read_only=True)
    ticket: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="number", read_only=True)

    class Meta:
        model = Message
        fields = [
            "id", "ticket", "direction", "author", "from_address", "from_name", "subject", "body_text",
            "body_html", "quoted_text", "message_id", "in_reply_to", "delivery_status", "language",
            "created_at", "written_at", "attachments",
        ]  # fmt: skip
        read_only_fields = fields


class TicketSerializer(serializers.ModelSerializer):
    # A ticket in a list or a search hit. As on the pages, a flagged ticket's subject is masked behind its
    # categories here; reading the ticket itself (which counts towards exposure) shows it.
    queue: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    requester = RequesterSerializer(read_only=True)
    subject = serializers.SerializerMethodField(
        help_text=_(
            "In lists and search, a ticket flagged as sensitive shows its categories instead of its subject; "
            "the ticket's own endpoint shows the subject."
        )
    )
    sensitivity = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text=_("Sensitive-content categories, if flagged.")
    )
    masks_sensitive_subject = True

    class Meta:
        model = Ticket
        fields = [
            "number", "subject", "sensitivity", "status", "priority", "language", "queue", "requester",
            "assignee", "tags", "created_at", "updated_at", "last_message_at", "solved_at",
            "first_response_due_at", "next_response_due_at", "resolution_due_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_subject(self, ticket: Ticket) -> str:
        if ticket.sensitivity and self.masks_sensitive_subject:
            return masked_subject(ticket.sensitivity)
        return ticket.subject


class TicketDetailSerializer(TicketSerializer):
    messages = MessageSerializer(many=True, read_only=True)
    masks_sensitive_subject = False

    class Meta(TicketSerializer.Meta):
        fields = [*TicketSerializer.Meta.fields, "messages"]
        read_only_fields = fields
