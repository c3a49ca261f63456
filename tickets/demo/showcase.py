"""Demo tickets that show the features a random sample would miss: escalations at each stage (open, taken,
handed back) and tickets the content scanner flagged, one per sensitivity category, child safety included.
Each has a mail of its own that fits it, arrived in the last day and a half.

Nothing explicit is written anywhere: the flags are set as the scanner would set them, on tickets whose
text only says that something was reported."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from django.utils import timezone

from tickets import services
from tickets.email.inbound import process_inbound, store_inbound
from tickets.escalations import services as escalations
from tickets.models import InboundEmail, Queue, Ticket
from tickets.wellbeing import services as wellbeing
from tickets.wellbeing.detection import Category

# (queue to escalate to, who escalates, who takes it or None, hand-back note or None, reason, the requester's
# mail: name, subject, body)
ESCALATIONS = [
    (
        "account-security",
        "ana.souza",
        None,
        None,
        "Conta invadida: o e-mail de recuperação foi trocado. Precisa de verificação de identidade.",
        (
            "Patrícia Menezes",
            "Trocaram o e-mail da minha conta",
            "Recebi um aviso de que o e-mail de recuperação da minha conta mudou, e não fui eu. Agora não consigo "
            "entrar. Meu usuário é @patimenezes.",
        ),
    ),
    (
        "engineering",
        "john.smith",
        "enzo.eng",
        None,
        "Upload crashes on Android 14 for videos over one minute; reproduced twice.",
        (
            "Kevin Walsh",
            "App closes when I upload a long video",
            "Every time I upload a video longer than a minute the app closes at about 80%. Short clips work. "
            "I'm on Android 14 and already reinstalled the app.",
        ),
    ),
    (
        "legal",
        "carlos.pereira",
        "laura.legal",
        "Pedido de remoção analisado: o conteúdo fica no ar; responder com o modelo LGPD-2.",
        "Pedido formal de remoção citando a LGPD.",
        (
            "Escritório Andrade Advogados",
            "Pedido de remoção de conteúdo com base na LGPD",
            "Em nome do nosso cliente, pedimos a remoção de um vídeo que mostra o rosto dele sem autorização, "
            "com base na LGPD. Seguem o link e a procuração.",
        ),
    ),
    (
        "account-security",
        "emily.jones",
        "sergio.sec",
        None,
        "Two logins from unknown countries within an hour; the user asks to lock the account.",
        (
            "Grace Miller",
            "Logins from countries I have never been to",
            "I got two login alerts within an hour, from countries I have never visited. Please lock my account "
            "until I can change my password.",
        ),
    ),
]
# (category, language, requester, subject, body): each says only that something was reported, nothing more.
FLAGGED = [
    (
        Category.BULLYING,
        "pt",
        "Júlia Campos",
        "Estão zombando de mim nos comentários",
        "Um grupo da minha escola comenta apelidos em todos os meus vídeos e me marca em montagens. Já bloqueei "
        "alguns perfis, mas eles criam outros. Podem ajudar?",
    ),
    (
        Category.HATE_SPEECH,
        "en",
        "Omar Haddad",
        "Comments attacking people for their religion",
        "A channel I follow gets comments insulting people for their religion and where they come from. I "
        "reported several of them, but they are still up.",
    ),
    (
        Category.SELF_HARM,
        "pt",
        "Larissa Prado",
        "Estou preocupada com uma amiga",
        "Uma amiga postou uma mensagem de despedida e disse que não aguenta mais. Não sei o que fazer. Vocês "
        "conseguem ver se ela está bem?",
    ),
    (
        Category.VIOLENCE,
        "en",
        "Daniel Brooks",
        "A video threatening my neighbour",
        "Someone posted a video threatening to hurt my neighbour, and it shows our street. We have called the "
        "police; please take it down.",
    ),
    (
        Category.ANIMAL_HARM,
        "pt",
        "Roberto Farias",
        "Denúncia de vídeo de maus-tratos a um cachorro",
        "Um perfil postou um vídeo maltratando um cachorro. Denunciei pelo app, mas o vídeo continua no ar.",
    ),
    (
        Category.CHILD_SAFETY,
        "en",
        "Helen Carter",
        "An adult account messaging children",
        "An adult account keeps sending private messages to children in my daughter's class. I have the "
        "profile name and the dates; please look into it.",
    ),
]
ADDRESSES = {"pt": "suporte@acolhe.example", "en": "support@acolhe.example"}


def load_showcase(staff: dict) -> dict[str, int]:
    """Bring in the showcase tickets through the mail pipeline, hours before now, then escalate and flag them."""
    import time_machine  # a dev dependency, as in seed_demo

    now = timezone.now()
    done = {"escalations": 0, "flagged": 0}
    for position, (slug, who, taker, note, reason, (name, subject, body)) in enumerate(ESCALATIONS):
        associate = staff[who]
        language = "pt" if slug == "legal" or who in ("ana.souza", "carlos.pereira") else "en"
        opened = now - timedelta(hours=30 - position * 6)
        ticket = _arrive(name, subject, body, language, opened)
        with time_machine.travel(opened + timedelta(minutes=40), tick=False):
            services.update_ticket(ticket, actor=associate, assignee=associate, status=Ticket.Status.OPEN)
            escalation = escalations.escalate(
                ticket, target_queue=Queue.objects.get(slug=slug), reason=reason, actor=associate
            )
        if taker:
            with time_machine.travel(opened + timedelta(hours=2), tick=False):
                escalations.claim(escalation.pk, actor=staff[taker])
        if note:
            with time_machine.travel(opened + timedelta(hours=5), tick=False):
                escalations.hand_back(escalation.pk, actor=staff[taker], note=note)
        done["escalations"] += 1
    for position, (category, language, name, subject, body) in enumerate(FLAGGED):
        ticket = _arrive(name, subject, body, language, now - timedelta(hours=20 - position * 3))
        wellbeing.flag_ticket(ticket, [category])  # child safety escalates itself to Trust & Safety
        done["flagged"] += 1
    return done


def _arrive(name: str, subject: str, body: str, language: str, when) -> Ticket:
    """A requester's mail, stored and processed as an ESP would deliver it at `when`."""
    import time_machine

    handle = "".join(c for c in name.lower().replace(" ", ".") if c.isascii() and (c.isalnum() or c == "."))
    to = ADDRESSES[language]
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = f"{name} <{handle}@example.com>", to, subject
    with time_machine.travel(when, tick=False):
        mail["Date"], mail["Message-ID"] = format_datetime(timezone.now()), make_msgid(domain="example.com")
        mail.set_content(body)
        inbound, _ = store_inbound(mail.as_bytes(), esp="demo", envelope_recipient=to, enqueue=False)
        process_inbound(inbound.pk)
    ticket_id = InboundEmail.objects.get(pk=inbound.pk).ticket_id
    assert ticket_id is not None  # the demo mail opens or joins a ticket
    return Ticket.objects.get(pk=ticket_id)
