"""A change to the procedures starts a new generation of what the ticket pages keep of them
(`sop.selectors.PROCEDURES`, see `helpdesk.generations`), and a change to them or to an acknowledgement one of
the must-read banner (`sop.selectors.ACKNOWLEDGEMENTS`). Connected in `SopConfig.ready`."""

from __future__ import annotations

from django.db.models.signals import m2m_changed, post_delete, post_save

from helpdesk import generations
from sop.models import SOP, Acknowledgement, ChecklistStep, SOPVersion
from sop.selectors import PROCEDURES
from sop.services import ACKNOWLEDGEMENTS

procedures_changed = generations.replacer(PROCEDURES)
acknowledgements_changed = generations.replacer(ACKNOWLEDGEMENTS)


def connect() -> None:
    for model in (SOP, SOPVersion, ChecklistStep):
        post_save.connect(procedures_changed, sender=model, dispatch_uid=f"sop-generation-save-{model.__name__}")
        post_delete.connect(procedures_changed, sender=model, dispatch_uid=f"sop-generation-delete-{model.__name__}")
    m2m_changed.connect(procedures_changed, sender=SOP.queues.through, dispatch_uid="sop-generation-queues")
    for banner in (SOP, SOPVersion, Acknowledgement):
        name = banner.__name__
        post_save.connect(acknowledgements_changed, sender=banner, dispatch_uid=f"sop-acknowledgements-save-{name}")
        post_delete.connect(acknowledgements_changed, sender=banner, dispatch_uid=f"sop-acknowledgements-delete-{name}")
