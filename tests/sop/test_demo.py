import pytest
from django.core.management import call_command

from sop.demo import load_demo_sops
from sop.models import SOP, Acknowledgement, Macro, SOPVersion
from sop.selectors import applicable_sops
from tests.factories import QueueFactory, TicketFactory, associate

pytestmark = pytest.mark.django_db


def test_demo_sops_load_once_in_both_languages_with_macros():
    suporte = QueueFactory(slug="suporte", languages=["pt"])
    QueueFactory(slug="support", languages=["en"])
    associate([suporte], username="ana.souza")
    first = load_demo_sops()
    assert first["sops"] >= 12 and first["macros"] >= 10
    assert load_demo_sops() == {"sops": 0, "versions": 0, "macros": 0}
    call_command("seed_sops")  # the command is the same loader
    assert SOP.objects.count() == first["sops"]
    for sop in SOP.objects.all():
        assert set(sop.versions.filter(is_current=True).values_list("language", flat=True)) == {"pt", "en"}
    assert SOPVersion.objects.filter(must_read=True, is_current=True).exists()
    assert Acknowledgement.objects.filter(user__username="ana.souza", acknowledged_at__isnull=False).exists()
    assert all(macro.body_pt and macro.body_en for macro in Macro.objects.all())


def test_demo_sops_apply_to_the_demo_tickets_by_tag():
    from tickets.demo.content import EN_SCENARIOS, PT_SCENARIOS

    suporte = QueueFactory(slug="suporte", languages=["pt"])
    support = QueueFactory(slug="support", languages=["en"])
    load_demo_sops()
    for queue, language, scenarios in ((suporte, "pt", PT_SCENARIOS), (support, "en", EN_SCENARIOS)):
        for tags, *_ in scenarios:
            ticket = TicketFactory(queue=queue, language=language, tags=tags)
            tagged = [sop for sop in applicable_sops(ticket) if sop.tags]
            assert tagged, f"no SOP for {tags}"
