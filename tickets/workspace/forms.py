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
    """Changes for the selected tickets, picked from menus (status, priority, assignee, queue) and tag
    fields; empty menus leave that field alone. `action` + `value` is the older typed form, still read."""

    ACTIONS = [
        ("assign", _("Assign to")),
        ("status", _("Set status")),
        ("add_tag", _("Add tag")),
        ("move", _("Move to queue")),
    ]
    tickets = forms.TypedMultipleChoiceField(coerce=int, choices=[], label=_("Tickets"))
    set_status = forms.ChoiceField(
        choices=[("", _("Status: no change")), *Ticket.Status.choices], required=False, label=_("Status")
    )
    set_priority = forms.TypedChoiceField(
        coerce=int,
        empty_value=None,
        choices=[("", _("Priority: no change")), *Ticket.Priority.choices],
        required=False,
        label=_("Priority"),
    )
    set_assignee = forms.CharField(max_length=20, required=False, label=_("Assignee"))
    set_queue = forms.SlugField(required=False, label=_("Queue"))
    add_tag = forms.CharField(max_length=50, required=False, label=_("Add tag"))
    remove_tag = forms.CharField(max_length=50, required=False, label=_("Remove tag"))
    action = forms.ChoiceField(choices=ACTIONS, required=False)
    value = forms.CharField(max_length=100, required=False)
    seen_event = forms.IntegerField(required=False, min_value=0)
    take_over = forms.BooleanField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any numbers; the service decides which the user may touch.
        self.fields["tickets"].valid_value = lambda value: str(value).isdigit()

    def changes(self, user) -> dict:
        """The changes to apply. Raises ValidationError for a value that names nothing."""
        data = self.cleaned_data
        changes: dict = {}
        if data["set_status"]:
            changes["status"] = data["set_status"]
        if data["set_priority"] is not None:
            changes["priority"] = data["set_priority"]
        if data["set_assignee"]:
            changes["assignee"] = _user(user, data["set_assignee"])
        if data["set_queue"]:
            changes["queue"] = _queue(data["set_queue"])
        for tag in ("add_tag", "remove_tag"):
            if data[tag].strip():
                changes[tag] = data[tag].strip()
        if changes:
            return changes
        if data["action"]:
            return self._typed_change(user, data["action"], data["value"].strip())
        raise forms.ValidationError(_("Choose a change for the selected tickets."))

    def _typed_change(self, user, action: str, value: str) -> dict:
        if action == "assign":
            return {"assignee": _user(user, value or "none")}
        if action == "status":
            if value not in Ticket.Status.values:
                raise forms.ValidationError(_("Unknown status."))
            return {"status": value}
        if action == "add_tag":
            if not value:
                raise forms.ValidationError(_("Choose an action."))
            return {"add_tag": value}
        return {"queue": _queue(value)}


def _user(actor, value: str):
    """ "me", "none", an id or a username."""
    if value == "none":
        return None
    if value == "me":
        return actor
    users = get_user_model().objects.filter(is_active=True)
    found = (users.filter(pk=int(value)) if value.isdigit() else users.filter(username=value)).first()
    if found is None:
        raise forms.ValidationError(_("Unknown user."))
    return found


def _queue(slug: str) -> Queue:
    queue = Queue.objects.filter(slug=slug).first()
    if queue is None:
        raise forms.ValidationError(_("Unknown queue."))
    return queue


class MergeForm(forms.Form):
    target = forms.IntegerField(min_value=1, label=_("Merge into ticket number"))
    restrict_target = forms.BooleanField(
        required=False, label=_("The other ticket takes this ticket's restriction (Trust & Safety only, legal hold)")
    )


class SavedViewForm(forms.Form):
    name = forms.CharField(max_length=80, label=_("Name"))
    query = forms.CharField(max_length=1000, required=False)
