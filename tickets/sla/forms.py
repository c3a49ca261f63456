"""The SLA policy form: business hours edited as one row per weekday with time fields, not raw JSON."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from tickets.models import SlaPolicy
from tickets.sla.calendar import WEEKDAYS, Calendar

DAY_NAMES = {
    "mon": _("Monday"),
    "tue": _("Tuesday"),
    "wed": _("Wednesday"),
    "thu": _("Thursday"),
    "fri": _("Friday"),
    "sat": _("Saturday"),
    "sun": _("Sunday"),
}
SLOTS = 2  # open intervals per day: a morning and an afternoon, around a lunch break


class BusinessHoursWidget(forms.Widget):
    """Seven rows (open?, from, to, and a second from/to), plus "open around the clock" for 24x7."""

    template_name = "tickets/widgets/business_hours.html"

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        hours = value if isinstance(value, dict) else {}
        context["always_open"] = not hours
        context["rows"] = [
            {
                "day": day,
                "label": DAY_NAMES[day],
                "open": bool(hours.get(day)),
                "slots": [
                    (list(hours.get(day) or [])[i] if i < len(hours.get(day) or []) else ["", ""]) for i in range(SLOTS)
                ],
            }
            for day in WEEKDAYS
        ]
        return context

    def value_from_datadict(self, data, files, name):
        if data.get(f"{name}_always"):
            return {}
        hours = {}
        for day in WEEKDAYS:
            if not data.get(f"{name}_{day}_open"):
                continue
            intervals = []
            for i in range(SLOTS):
                start, end = data.get(f"{name}_{day}_{i}_start", ""), data.get(f"{name}_{day}_{i}_end", "")
                if start or end:
                    intervals.append([start, end or "24:00"])
            hours[day] = intervals
        return hours

    def value_omitted_from_data(self, data, files, name):
        return not any(key.startswith(f"{name}_") for key in data)


class BusinessHoursField(forms.Field):
    widget = BusinessHoursWidget

    def clean(self, value):
        value = super().clean(value) or {}
        for day, intervals in value.items():
            if not intervals:
                raise forms.ValidationError(
                    _("%(day)s is marked open: give it opening hours.") % {"day": DAY_NAMES[day]}
                )
        try:
            Calendar.parse("UTC", value, [])
        except ValueError as exc:
            raise forms.ValidationError(_("These opening hours do not work: %(error)s") % {"error": exc}) from exc
        return value


class SlaPolicyForm(forms.ModelForm):
    business_hours = BusinessHoursField(
        label=_("Business hours"),
        required=False,
        help_text=_("The clocks run only in these hours, in the policy's time zone, and stop on its holidays."),
    )

    class Meta:
        model = SlaPolicy
        fields = [
            "name",
            "queue",
            "priority",
            "first_response_minutes",
            "next_response_minutes",
            "resolution_minutes",
            "warning_percent",
            "time_zone",
            "business_hours",
            "holidays",
            "is_active",
        ]
