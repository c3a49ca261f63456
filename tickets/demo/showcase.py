"""Demo tickets that show the features a random sample would miss: escalations at each stage (open, taken,
handed back) and tickets the content scanner flagged, one per sensitivity category, child safety included.

Nothing explicit is written anywhere: the flags are set as the scanner would set them, on tickets whose
text only says that something was reported."""

from __future__ import annotations

from tickets.escalations import services as escalations
from tickets.models import Queue, Ticket
from tickets.wellbeing import services as wellbeing
from tickets.wellbeing.detection import Category

# (queue to escalate to, who escalates, who takes it or None, hand-back note or None, reason)
ESCALATIONS = [
    (
        "account-security",
        "ana.souza",
        None,
        None,
        "Conta invadida: o e-mail de recuperação foi trocado. Precisa de verificação de identidade.",
    ),
    (
        "engineering",
        "john.smith",
        "enzo.eng",
        None,
        "Upload crashes on Android 14 for videos over one minute; reproduced twice.",
    ),
    (
        "legal",
        "carlos.pereira",
        "laura.legal",
        "Pedido de remoção analisado: o conteúdo fica no ar; responder com o modelo LGPD-2.",
        "Pedido formal de remoção citando a LGPD.",
    ),
    (
        "account-security",
        "emily.jones",
        "sergio.sec",
        None,
        "Two logins from unknown countries within an hour; the user asks to lock the account.",
    ),
]
CATEGORIES = [
    Category.BULLYING,
    Category.HATE_SPEECH,
    Category.SELF_HARM,
    Category.VIOLENCE,
    Category.ANIMAL_HARM,
    Category.CHILD_SAFETY,
]


def load_showcase(staff: dict) -> dict[str, int]:
    """Escalate and flag some of the demo's open tickets (the oldest first, so reruns pick the same)."""
    open_tickets = list(
        Ticket.objects.filter(status__in=[Ticket.Status.OPEN, Ticket.Status.NEW], escalations__isnull=True)
        .order_by("created_at")
        .select_related("queue")
    )
    by_language = {
        "pt": [t for t in open_tickets if t.language == "pt"],
        "en": [t for t in open_tickets if t.language == "en"],
    }
    done = {"escalations": 0, "flagged": 0}
    for slug, who, taker, note, reason in ESCALATIONS:
        associate = staff[who]
        pool = by_language["pt" if slug in ("legal",) or who in ("ana.souza", "carlos.pereira") else "en"]
        if not pool:
            continue
        ticket = pool.pop(0)
        escalation = escalations.escalate(
            ticket, target_queue=Queue.objects.get(slug=slug), reason=reason, actor=associate
        )
        if taker:
            escalations.claim(escalation.pk, actor=staff[taker])
        if note:
            escalations.hand_back(escalation.pk, actor=staff[taker], note=note)
        done["escalations"] += 1
    for position, category in enumerate(CATEGORIES):
        pool = by_language["pt" if position % 2 == 0 else "en"] or by_language["pt"]
        if not pool:
            break
        wellbeing.flag_ticket(pool.pop(0), [category])  # child safety escalates itself to Trust & Safety
        done["flagged"] += 1
    return done
