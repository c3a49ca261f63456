"""Load the demo SOPs and macros (pt-BR and en). Safe to run again: what exists is left as it is."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from sop import services
from sop.demo_content import MACROS, REVISIONS, SOPS
from sop.models import SOP, Macro
from tickets.models import Queue

AUTHORS = {"pt": "lead.ana", "en": "lead.bruno"}
# A few associates have already read the must-read revision, so the coverage page has both columns.
ALREADY_READ = ["ana.souza", "beatriz.lima", "john.smith"]


def on_demo_seeded(**signal_kwargs: object) -> None:
    """Receiver of `tickets.signals.demo_seeded`, connected in `SopConfig.ready()`."""
    load_demo_sops()


@transaction.atomic
def load_demo_sops() -> dict[str, int]:
    """Create the demo SOPs (each published in both languages, two with a must-read revision) and the shared
    macros. Returns how many of each were created this time."""
    User = get_user_model()
    authors = {language: User.objects.filter(username=name).first() for language, name in AUTHORS.items()}
    queues = {queue.slug: queue for queue in Queue.objects.all()}
    created = {"sops": 0, "versions": 0, "macros": 0}
    for spec in SOPS:
        sop, new = SOP.objects.get_or_create(
            slug=spec["slug"], defaults={"title": spec["title"], "category": spec["category"], "tags": spec["tags"]}
        )
        created["sops"] += new
        # Queues may be seeded after the SOPs: link whichever exist now (adding twice is a no-op).
        sop.queues.add(*[queues[slug] for slug in spec["queues"] if slug in queues])
        for language in ("pt", "en"):
            if sop.versions.filter(language=language).exists():
                continue
            title, body, steps = spec[language]
            version = services.create_version(
                sop,
                language=language,
                title=title,
                body=body,
                steps=services.steps_from_text(steps),
                change_summary="Primeira versão" if language == "pt" else "First version",
                actor=authors[language],
            )
            services.publish_version(version)
            created["versions"] += 1
    for slug, language, (title, body, steps), summary in REVISIONS:
        sop = SOP.objects.get(slug=slug)
        if sop.versions.filter(language=language).count() >= 2:
            continue
        version = services.create_version(
            sop,
            language=language,
            title=title,
            body=body,
            steps=services.steps_from_text(steps),
            change_summary=summary,
            actor=authors[language],
            must_read=True,
        )
        services.publish_version(version)
        created["versions"] += 1
        for user in User.objects.filter(username__in=ALREADY_READ, sop_acknowledgements__version=version):
            services.acknowledge(version, actor=user)
    sops = {sop.slug: sop for sop in SOP.objects.all()}
    for name, slug, body_pt, body_en, actions in MACROS:
        assert isinstance(actions, dict)
        _, new = Macro.objects.get_or_create(
            name=name,
            owner=None,
            defaults={"body_pt": body_pt, "body_en": body_en, "sop": sops.get(slug), **actions},
        )
        created["macros"] += new
    return created
