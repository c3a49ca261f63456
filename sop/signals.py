"""A change to the procedures starts a new generation of what the ticket pages keep of them
(`sop.selectors.GENERATION_KEY`). Connected in `SopConfig.ready`.

The token is dropped at once, so that the writing transaction itself reads its change, and again once it
commits, so that a page read between the two (which still saw the old rows) is not kept past the commit."""

from __future__ import annotations

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from sop.models import SOP, ChecklistStep, SOPVersion
from sop.selectors import GENERATION_KEY


def procedures_changed(**kwargs) -> None:
    cache.delete(GENERATION_KEY)
    transaction.on_commit(lambda: cache.delete(GENERATION_KEY), robust=True)


def connect() -> None:
    for model in (SOP, SOPVersion, ChecklistStep):
        post_save.connect(procedures_changed, sender=model, dispatch_uid=f"sop-generation-save-{model.__name__}")
        post_delete.connect(procedures_changed, sender=model, dispatch_uid=f"sop-generation-delete-{model.__name__}")
    m2m_changed.connect(procedures_changed, sender=SOP.queues.through, dispatch_uid="sop-generation-queues")
