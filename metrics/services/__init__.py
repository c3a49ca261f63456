"""Writes with business rules for metrics: rollups, heartbeats, QA reviews and sampling, CSAT surveys.

Names: the acting user is `actor`, keyword-only. `record_heartbeat` takes a ticket number and checks that
the actor may see it; `submit_review` and `start_calibration` take instances and check the actor's right
to review (`can_review`, `calibration_reviewers`). CSAT and rollups act as the system (signals, tasks) or
for an anonymous requester holding a signed link (`answer_survey`, `survey_for_token`).
"""

from metrics.services.csat import (
    CsatClosed,
    answer_survey,
    on_ticket_solved,
    on_tickets_scrubbed,
    survey_for_token,
    survey_link,
)
from metrics.services.heartbeats import record_heartbeat
from metrics.services.qa import can_review, sample_week, start_calibration, submit_review
from metrics.services.rollup import RollupResult, rollup_days, rollup_recent, touched_days

__all__ = [
    "CsatClosed",
    "RollupResult",
    "answer_survey",
    "can_review",
    "on_ticket_solved",
    "on_tickets_scrubbed",
    "record_heartbeat",
    "rollup_days",
    "rollup_recent",
    "sample_week",
    "start_calibration",
    "submit_review",
    "survey_for_token",
    "survey_link",
    "touched_days",
]
