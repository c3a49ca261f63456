"""The dashboard tables, defined once for the pages and the CSV export: a header and rows of cells."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from metrics.definitions import Summary
from metrics.selectors import Dashboard

# (attribute of `Summary`, column label, area)
SCORE_COLUMNS = [
    ("solved", _("Solved"), "productivity"),
    ("replies_sent", _("Replies"), "productivity"),
    ("handle_hours", _("Handle time (h)"), "productivity"),
    ("solved_per_hour", _("Solved per hour"), "productivity"),
    ("qa_score", _("QA score"), "quality"),
    ("csat_average", _("CSAT (1-5)"), "quality"),
    ("csat_percent", _("CSAT % satisfied"), "quality"),
    ("first_response_minutes", _("First response (min)"), "resolution"),
    ("resolution_hours", _("Resolution (h)"), "resolution"),
    ("fcr_percent", _("First-contact resolution %"), "resolution"),
    ("reopen_percent", _("Reopen %"), "resolution"),
    ("sla_percent", _("SLA met %"), "resolution"),
    ("escalation_percent", _("Escalated %"), "resolution"),
]
TABLES = ("associates", "trend", "queues", "qa", "csat")


@dataclass
class Table:
    name: str
    title: Any
    header: list[Any]
    rows: list[list[Any]]
    links: list[str | None] | None = None


def _scores(summary: Summary) -> list[Any]:
    return [getattr(summary, key) for key, _label, _area in SCORE_COLUMNS]


def associates_table(board: Dashboard, link=None) -> Table:
    return Table(
        "associates",
        _("Associates"),
        [_("Associate"), *[label for _key, label, _area in SCORE_COLUMNS]],
        [[row.name, *_scores(row.summary)] for row in board.associates],
        [link(row.associate_id) if link else None for row in board.associates],
    )


def trend_table(trend: list[tuple[Any, Summary]], iso: bool = False) -> Table:
    return Table(
        "trend",
        _("Day by day"),
        [_("Day"), _("Tickets created"), *[label for _key, label, _area in SCORE_COLUMNS]],
        [
            [
                day.isoformat() if iso else date_format(day, "SHORT_DATE_FORMAT"),
                summary.tickets_created,
                *_scores(summary),
            ]
            for day, summary in trend
        ],
    )


def queues_table(board: Dashboard) -> Table:
    return Table(
        "queues",
        _("Queue health"),
        [
            _("Queue"),
            _("Backlog"),
            _("Unassigned"),
            _("Average age (h)"),
            _("SLA breaches"),
            _("Solved"),
            _("First response (min)"),
            _("SLA met %"),
        ],
        [
            [
                row.name,
                row.backlog,
                row.unassigned,
                row.average_age_hours,
                row.sla_breaches,
                row.summary.solved,
                row.summary.first_response_minutes,
                row.summary.sla_percent,
            ]
            for row in board.queues
        ],
    )


QA_LABELS = ["< 60", "60-69", "70-79", "80-89", "90-100"]


def qa_table(board: Dashboard) -> Table:
    return Table(
        "qa",
        _("QA scores"),
        [_("Score"), _("Reviews")],
        [list(pair) for pair in zip(QA_LABELS, board.qa_distribution, strict=True)],
    )


def csat_table(board: Dashboard) -> Table:
    return Table(
        "csat",
        _("CSAT ratings"),
        [_("Rating"), _("Answers")],
        [[str(n), count] for n, count in enumerate(board.csat_distribution, start=1)],
    )


def table(board: Dashboard, name: str, iso: bool = False) -> Table:
    if name == "associates":
        return associates_table(board)
    if name == "trend":
        return trend_table(board.trend, iso=iso)
    if name == "queues":
        return queues_table(board)
    if name == "qa":
        return qa_table(board)
    if name == "csat":
        return csat_table(board)
    raise KeyError(name)


def chart_data(trend: list[tuple[Any, Summary]], totals: Summary) -> dict[str, Any]:
    """What static/js/dashboard.js draws: 30-day trends and the two distributions."""
    return {
        "labels": [date_format(day, "SHORT_DATE_FORMAT") for day, _summary in trend],
        "series": {
            "solved": [s.solved for _day, s in trend],
            "replies": [s.replies_sent for _day, s in trend],
            "first_response": [s.first_response_minutes for _day, s in trend],
            "sla": [s.sla_percent for _day, s in trend],
            "csat": [s.csat_average for _day, s in trend],
        },
        "labels_text": {
            "solved": str(_("Solved")),
            "replies": str(_("Replies")),
            "first_response": str(_("First response (min)")),
            "sla": str(_("SLA met %")),
            "csat": str(_("CSAT (1-5)")),
            "qa": str(_("QA reviews")),
            "csat_dist": str(_("CSAT answers")),
        },
        "qa": {
            "labels": QA_LABELS,
            "values": [getattr(totals, n) for n in ("qa_below_60", "qa_60", "qa_70", "qa_80", "qa_90")],
        },
        "csat_dist": {
            "labels": ["1", "2", "3", "4", "5"],
            "values": [getattr(totals, f"csat_{n}") for n in range(1, 6)],
        },
    }
