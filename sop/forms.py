from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from sop.models import SOP, Macro
from sop.selectors import titles_in
from sop.services import steps_from_text
from tickets.models import Queue


class SOPForm(forms.ModelForm):
    tags = forms.CharField(
        label=_("Tags"), required=False, help_text=_("Ticket tags it applies to, separated by commas.")
    )

    class Meta:
        model = SOP
        fields = ["title", "slug", "category", "queues", "tags", "is_active"]
        widgets = {"queues": forms.CheckboxSelectMultiple}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["queues"].queryset = Queue.objects.order_by("name")
        if self.instance.pk:
            self.initial["tags"] = ", ".join(self.instance.tags)

    def clean_tags(self) -> list[str]:
        from tickets.services import normalise_tags

        return normalise_tags(self.cleaned_data["tags"].split(","))


class VersionForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    body = forms.CharField(label=_("Procedure (Markdown)"), widget=forms.Textarea(attrs={"rows": 16}), required=False)
    steps = forms.CharField(
        label=_("Checklist"),
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
        help_text=_("One step per line. Start a line with ! to make the step required."),
    )
    change_summary = forms.CharField(label=_("What changed"), max_length=500, required=False)
    must_read = forms.BooleanField(
        label=_("Must read: ask every associate of its queues to acknowledge it"), required=False
    )

    def clean_steps(self) -> list[tuple[str, bool]]:
        return steps_from_text(self.cleaned_data["steps"])


class ProcedureChoiceField(forms.ModelChoiceField):
    """A procedure by the name the reader's language gives it (`names`, which the form fills), else by its
    internal name."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.names: dict[int, str] = {}

    def label_from_instance(self, obj) -> str:
        return self.names.get(obj.pk, str(obj))


class MacroForm(forms.ModelForm):
    add_tags = forms.CharField(label=_("Add tags"), required=False, help_text=_("Separated by commas."))
    shared = forms.BooleanField(label=_("Shared with the team"), required=False)

    class Meta:
        model = Macro
        fields = ["name", "body_pt", "body_en", "sop", "set_status", "set_priority", "add_tags", "set_queue"]
        widgets = {"body_pt": forms.Textarea(attrs={"rows": 8}), "body_en": forms.Textarea(attrs={"rows": 8})}
        field_classes = {"sop": ProcedureChoiceField}
        help_texts = {
            "body_pt": _(
                "Variables: {{ requester.first_name }}, {{ requester.name }}, {{ ticket.number }}, "
                "{{ ticket.subject }}, {{ agent.first_name }}, {{ agent.name }}, {{ queue.name }}."
            )
        }

    def __init__(self, *args, can_share: bool = False, queues=None, language: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if language is not None:
            procedures = cast(ProcedureChoiceField, self.fields["sop"])
            offered = procedures.queryset if procedures.queryset is not None else SOP.objects.none()
            procedures.names = titles_in(list(offered), language)
        if queues is not None:
            # Only queues the author may move tickets to by hand (sop.services.check_macro_actions).
            cast(forms.ModelChoiceField, self.fields["set_queue"]).queryset = queues
        if self.instance.pk:
            self.initial["add_tags"] = ", ".join(self.instance.add_tags)
            self.initial["shared"] = self.instance.is_shared
        if not can_share:
            del self.fields["shared"]

    def clean_add_tags(self) -> list[str]:
        return [tag for tag in self.cleaned_data["add_tags"].split(",") if tag.strip()]

    def clean(self):
        cleaned = super().clean()
        if not (cleaned.get("body_pt", "").strip() or cleaned.get("body_en", "").strip()):
            raise forms.ValidationError(_("Write the body in at least one language."))
        return cleaned
