"""Form parsing for the workspace pages (the API has its own serializers)."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from tickets.models import Language, Queue, Ticket
from tickets.workspace.services import REPLY_STATUSES


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


class ReplyForm(forms.Form):
    MODES = [("reply", _("Reply to requester")), ("note", _("Internal note"))]

    mode = forms.ChoiceField(choices=MODES, initial="reply", widget=forms.RadioSelect, label=_("Send as"))
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}), label=_("Message"), max_length=100_000)
    set_status = forms.ChoiceField(
        choices=[("", _("Keep status"))] + [(s.value, s.label) for s in REPLY_STATUSES],
        required=False,
        label=_("Then set status"),
    )
    attachments = MultipleFileField(required=False, label=_("Attachments"))
    seen_message = forms.IntegerField(required=False, widget=forms.HiddenInput)
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)
    # A random token per composer form (see workspace `services.reply`): a second press is recognised.
    draft = forms.RegexField(regex=r"^[0-9a-f]{32}$", required=False, widget=forms.HiddenInput)
    # The version of the ticket the page showed (workspace `services.collisions`).
    seen_event = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)


class FieldsForm(forms.Form):
    """Inline edits on the ticket page; only the fields present in the post are changed."""

    status = forms.ChoiceField(choices=Ticket.Status.choices, required=False, label=_("Status"))
    priority = forms.TypedChoiceField(
        choices=Ticket.Priority.choices, coerce=int, required=False, empty_value=None, label=_("Priority")
    )
    language = forms.ChoiceField(choices=Language.choices, required=False, label=_("Language"))
    queue = forms.ModelChoiceField(queryset=Queue.objects.all(), to_field_name="slug", required=False, label=_("Queue"))
    assignee = forms.ModelChoiceField(queryset=get_user_model().objects.filter(is_active=True), required=False)
    tags = forms.CharField(required=False, max_length=1000, label=_("Tags"))
    seen_event = forms.IntegerField(required=False, min_value=0)

    def changes(self, posted) -> dict:
        data = self.cleaned_data
        result = {}
        for name in ("status", "priority", "language", "queue"):
            if name in posted and data.get(name) not in (None, ""):
                result[name] = data[name]
        if "assignee" in posted:
            result["assignee"] = data.get("assignee")
        if "tags" in posted:
            result["tags"] = [t for t in data.get("tags", "").replace(",", " ").split() if t]
        return result


class BulkForm(forms.Form):
    ACTIONS = [
        ("assign", _("Assign to")),
        ("status", _("Set status")),
        ("add_tag", _("Add tag")),
        ("move", _("Move to queue")),
    ]
    tickets = forms.TypedMultipleChoiceField(coerce=int, choices=[], label=_("Tickets"))
    action = forms.ChoiceField(choices=ACTIONS)
    value = forms.CharField(max_length=100, required=False)
    seen_event = forms.IntegerField(required=False, min_value=0)
    take_over = forms.BooleanField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any numbers; the service decides which the user may touch.
        self.fields["tickets"].valid_value = lambda value: str(value).isdigit()

    def changes(self, user) -> dict:
        """The change to apply, from the action and its value (a user: "me", "none", a username or an id;
        a status; a tag; a queue slug). Raises ValidationError for a value that names nothing."""
        action, value = self.cleaned_data["action"], self.cleaned_data["value"].strip()
        if action == "assign":
            if value in ("", "none"):
                return {"assignee": None}
            if value == "me":
                return {"assignee": user}
            users = get_user_model().objects.filter(is_active=True)
            found = (users.filter(pk=int(value)) if value.isdigit() else users.filter(username=value)).first()
            if found is None:
                raise forms.ValidationError(_("Unknown user."))
            return {"assignee": found}
        if action == "status":
            if value not in Ticket.Status.values:
                raise forms.ValidationError(_("Unknown status."))
            return {"status": value}
        if action == "add_tag":
            if not value:
                raise forms.ValidationError(_("Choose an action."))
            return {"add_tag": value}
        queue = Queue.objects.filter(slug=value).first()
        if queue is None:
            raise forms.ValidationError(_("Unknown queue."))
        return {"queue": queue}


class MergeForm(forms.Form):
    target = forms.IntegerField(min_value=1, label=_("Merge into ticket number"))


class SavedViewForm(forms.Form):
    name = forms.CharField(max_length=80, label=_("Name"))
    query = forms.CharField(max_length=1000, required=False)
