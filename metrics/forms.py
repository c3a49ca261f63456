"""Forms for the metric pages: dashboard filters, QA reviews, calibrations, the public CSAT answer."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, cast

from django import forms
from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _

from metrics import selectors
from metrics.models import Scorecard
from tickets import selectors as ticket_selectors
from tickets.models import Language
from tickets.workspace.selectors import movable_queues

MAX_RANGE_DAYS = 366


class FilterForm(forms.Form):
    first = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    last = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    queue: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("Queue"), queryset=None, required=False, empty_label=_("All queues")
    )
    language = forms.ChoiceField(label=_("Language"), required=False)
    team: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("Team"), queryset=None, required=False, empty_label=_("All teams")
    )

    def __init__(self, *args, user: User, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        self.user = user
        cast(forms.ModelChoiceField, self.fields["queue"]).queryset = ticket_selectors.queues_visible_to(user).order_by(
            "name"
        )
        cast(forms.ModelChoiceField, self.fields["team"]).queryset = selectors.teams_visible_to(user)
        cast(forms.ChoiceField, self.fields["language"]).choices = [("", _("All languages")), *Language.choices]

    def clean(self):
        data = super().clean()
        last = data.get("last") or self.today
        first = data.get("first") or last - timedelta(days=29)
        if first > last:
            first, last = last, first
        if (last - first).days >= MAX_RANGE_DAYS:
            first = last - timedelta(days=MAX_RANGE_DAYS - 1)
        data["first"], data["last"] = first, last
        return data

    def menus(self) -> dict[str, list[tuple[Any, str]]]:
        """(value, label) of the three menus' options, for the template's `options` tag: through Django's widget
        templates a menu cost one template render per option, a sixth of the dashboard's time. The queues are
        the kept names of the sidebar (`movable_queues`), by name as the field's own queryset orders them."""
        queues = sorted(movable_queues(self.user), key=lambda queue: queue.name)
        return {
            "queue": [(queue.pk, queue.name) for queue in queues],
            "language": [(value, str(label)) for value, label in Language.choices],
            "team": list(selectors.teams_visible_to(self.user).values_list("pk", "name")),
        }

    def filters(self) -> selectors.Filters:
        if not self.is_valid():
            return selectors.Filters.last_days(self.today)
        data = self.cleaned_data
        return selectors.Filters(
            first=data["first"],
            last=data["last"],
            queue_id=data["queue"].pk if data.get("queue") else None,
            language=data.get("language") or "",
            team_id=data["team"].pk if data.get("team") else None,
        )


class ReviewForm(forms.Form):
    """One rating (1-5) and comment per criterion, built from the scorecard."""

    RATINGS = [(n, str(n)) for n in range(1, 6)]
    comment = forms.CharField(label=_("Overall comment"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, scorecard: Scorecard, initial_answers: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.criteria = list(scorecard.criteria.all())
        initial_answers = initial_answers or {}
        for criterion in self.criteria:
            rating, note = initial_answers.get(criterion.pk, (None, ""))
            self.fields[f"rating_{criterion.pk}"] = forms.TypedChoiceField(
                label=criterion.display_name,
                choices=self.RATINGS,
                coerce=int,
                widget=forms.RadioSelect,
                help_text=criterion.display_description,
                initial=rating,
            )
            self.fields[f"comment_{criterion.pk}"] = forms.CharField(
                label=_("Comment on %(criterion)s") % {"criterion": criterion.display_name},
                required=False,
                initial=note,
                widget=forms.Textarea(attrs={"rows": 2}),
            )

    def rows(self):
        return [(c, self[f"rating_{c.pk}"], self[f"comment_{c.pk}"]) for c in self.criteria]

    def ratings(self) -> dict[int, tuple[int, str]]:
        return {
            c.pk: (self.cleaned_data[f"rating_{c.pk}"], self.cleaned_data.get(f"comment_{c.pk}", ""))
            for c in self.criteria
        }


class CalibrationForm(forms.Form):
    reviewers: forms.ModelMultipleChoiceField = forms.ModelMultipleChoiceField(label=_("Reviewers"), queryset=None)

    def __init__(self, *args, reviewers, **kwargs):
        super().__init__(*args, **kwargs)
        # metrics.selectors.calibration_reviewers: leads of the ticket's team who can open the ticket.
        self.fields["reviewers"].queryset = reviewers


class CsatForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("Your rating"), choices=[(n, str(n)) for n in range(1, 6)], coerce=int, widget=forms.RadioSelect
    )
    comment = forms.CharField(
        label=_("Anything you would like to tell us? (optional)"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
