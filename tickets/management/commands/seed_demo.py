"""Load the bilingual demo: queues, staff, and a few hundred tickets that came in through the real
mail pipeline. Safe to run again: what exists is left as it is."""

from __future__ import annotations

import random
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import cast

from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from tickets import services, signals
from tickets.demo.content import EN_NAMES, EN_SCENARIOS, PT_NAMES, PT_SCENARIOS
from tickets.demo.images import withdrawal_screen
from tickets.demo.showcase import load_showcase
from tickets.demo.sla import load_demo_policies
from tickets.email.inbound import process_inbound, store_inbound
from tickets.models import InboundEmail, Message, Profile, Queue, Role, Team, Ticket, TicketEvent
from tickets.sla.sweep import sweep

DEMO_PASSWORD = "acolhe-demo"
QUEUES = [
    # slug, name, kind, languages, addresses, default, auto-ack
    ("suporte", "Suporte (pt-BR)", "front_line", ["pt"], ["suporte@acolhe.example"], True, True),
    ("support", "Support (English)", "front_line", ["en"], ["support@acolhe.example"], False, True),
    ("account-security", "Account Security", "cross_functional", ["pt", "en"],
     ["seguranca@acolhe.example", "security@acolhe.example"], False, False),
    ("trust-safety", "Trust & Safety", "cross_functional", ["pt", "en"], [], False, False),
    ("engineering", "Engineering", "cross_functional", ["pt", "en"], [], False, False),
    ("legal", "Legal", "cross_functional", ["pt", "en"], ["legal@acolhe.example"], False, False),
]  # fmt: skip
STAFF = [
    # username, full name, role, languages, queues, team
    ("admin", "Admin Acolhe", Role.ADMIN, ["pt", "en"], [], None),
    ("lead.ana", "Ana Beatriz Lima", Role.TEAM_LEAD, ["pt", "en"], ["suporte"], "Time Brasil"),
    ("lead.bruno", "Bruno Carvalho", Role.TEAM_LEAD, ["pt", "en"], ["support"], "Global English"),
    ("ana.souza", "Ana Souza", Role.ASSOCIATE, ["pt"], ["suporte"], "Time Brasil"),
    ("beatriz.lima", "Beatriz Lima", Role.ASSOCIATE, ["pt"], ["suporte"], "Time Brasil"),
    ("carlos.pereira", "Carlos Pereira", Role.ASSOCIATE, ["pt", "en"], ["suporte", "support"], "Time Brasil"),
    ("daniela.rocha", "Daniela Rocha", Role.ASSOCIATE, ["pt"], ["suporte"], "Time Brasil"),
    ("eduardo.alves", "Eduardo Alves", Role.ASSOCIATE, ["pt"], ["suporte"], "Time Brasil"),
    ("fernanda.costa", "Fernanda Costa", Role.ASSOCIATE, ["pt", "en"], ["suporte", "support"], "Time Brasil"),
    ("gabriel.martins", "Gabriel Martins", Role.ASSOCIATE, ["pt"], ["suporte"], "Time Brasil"),
    ("helena.ribeiro", "Helena Ribeiro", Role.ASSOCIATE, ["pt", "en"], ["suporte", "support"], "Time Brasil"),
    ("john.smith", "John Smith", Role.ASSOCIATE, ["en"], ["support"], "Global English"),
    ("emily.jones", "Emily Jones", Role.ASSOCIATE, ["en"], ["support"], "Global English"),
    ("michael.brown", "Michael Brown", Role.ASSOCIATE, ["en", "pt"], ["support", "suporte"], "Global English"),
    ("sarah.wilson", "Sarah Wilson", Role.ASSOCIATE, ["en"], ["support"], "Global English"),
    ("tessa.trust", "Tessa Moreira", Role.SPECIALIST, ["pt", "en"], ["trust-safety"], None),
    ("sergio.sec", "Sérgio Nunes", Role.SPECIALIST, ["pt", "en"], ["account-security"], None),
    ("enzo.eng", "Enzo Tavares", Role.SPECIALIST, ["pt", "en"], ["engineering"], None),
    ("laura.legal", "Laura Fontes", Role.SPECIALIST, ["pt", "en"], ["legal"], None),
]  # fmt: skip


class Command(BaseCommand):
    help = "Load bilingual demo data (queues, staff, tickets). Running it again changes nothing."
    SECOND_ANSWERS = {
        "pt": ["Conferimos de novo e agora ficou certo. Pode testar?", "Ajustamos mais um detalhe; deve funcionar."],
        "en": ["We checked again and fixed the remaining part. Could you try?", "One more fix is in; it should work."],
    }

    # How many tickets older than two days are still new and unassigned (they breach their SLA).
    LEFT_BEHIND = 4

    def add_arguments(self, parser):
        parser.add_argument("--tickets", type=int, default=300, help="How many demo tickets to create.")
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args, tickets: int, seed: int, **options):
        with transaction.atomic():
            queues = self._queues()
            # Before the tickets, so their clocks start on the business calendar.
            load_demo_policies(queues, timezone.localdate())
            staff = self._staff(queues)
        already_loaded = InboundEmail.objects.filter(esp="demo").exists()
        if already_loaded:
            self.stdout.write("Demo tickets already loaded.")
        else:
            # Demo requesters are not real people: no satisfaction survey goes to them while seeding.
            with override_settings(ACOLHE_CSAT_ENABLED=False):
                created = self._tickets(tickets, random.Random(seed), staff)
            self.stdout.write(f"Loaded {len(queues)} queues, {len(staff)} staff, {created} tickets.")
            with override_settings(ACOLHE_CSAT_ENABLED=False):
                self._long_thread(staff)
            shown = load_showcase(staff)
            self.stdout.write(f"Escalated {shown['escalations']} tickets and flagged {shown['flagged']}.")
            # What beat's sweep would record in its first minute, so the breaches are counted from the start.
            swept = sweep()
            self.stdout.write(f"Recorded {swept.breaches} SLA breaches and {swept.warnings} warnings.")
        # The apps built on tickets add their demo data (sop: procedures and macros, after the staff exist so
        # must-read versions ask real associates; metrics: QA reviews, answered surveys, the first rollup).
        signals.demo_seeded.send(sender=Ticket, tickets_loaded=not already_loaded)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))

    def _queues(self) -> dict[str, Queue]:
        queues = {}
        for slug, name, kind, languages, addresses, default, auto_ack in QUEUES:
            queues[slug], _ = Queue.objects.get_or_create(
                slug=slug,
                defaults={
                    "name": name, "kind": kind, "languages": languages, "addresses": addresses,
                    "is_default": default, "auto_acknowledge": auto_ack,
                },
            )  # fmt: skip
        return queues

    def _staff(self, queues: dict[str, Queue]) -> dict[str, User]:
        staff = {}
        for username, full_name, role, languages, queue_slugs, team_name in STAFF:
            first, _, last = full_name.partition(" ")
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"first_name": first, "last_name": last, "email": f"{username}@acolhe.example"},
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.is_staff = role == Role.ADMIN
                user.is_superuser = role == Role.ADMIN
                user.save()
                user.groups.add(Group.objects.get(name=role))
                team = Team.objects.get_or_create(name=team_name)[0] if team_name else None
                if team and role == Role.TEAM_LEAD:
                    team.leads.add(user)
                Profile.objects.update_or_create(
                    user=user, defaults={"languages": languages, "team": team, "ui_language": ""}
                )
                for slug in queue_slugs:
                    queues[slug].members.add(user)
                    if team and queues[slug].team_id is None:
                        queues[slug].team = team
                        queues[slug].save(update_fields=["team"])
            staff[username] = user
        return staff

    def _tickets(self, count: int, rng: random.Random, staff: dict) -> int:
        import time_machine  # a dev dependency: the demo spreads its history over the last 30 days

        now = timezone.now()
        associates = {
            "pt": [staff[u] for u in staff if u in {"ana.souza", "beatriz.lima", "carlos.pereira", "daniela.rocha",
                                                     "eduardo.alves", "fernanda.costa", "gabriel.martins"}],
            "en": [staff[u] for u in staff if u in {"john.smith", "emily.jones", "michael.brown", "sarah.wilson"}],
        }  # fmt: skip
        left_behind = 0
        for _ in range(count):
            language = "pt" if rng.random() < 0.6 else "en"
            names, scenarios = (PT_NAMES, PT_SCENARIOS) if language == "pt" else (EN_NAMES, EN_SCENARIOS)
            name = rng.choice(names)
            tags, subject, body, follow_up, answer = rng.choice(scenarios)
            first = name.split()[0]
            handle = name.lower().replace(" ", "_").encode("ascii", "ignore").decode() + str(rng.randint(1, 999))
            address = f"{handle}@example.com"
            to = "suporte@acolhe.example" if language == "pt" else "support@acolhe.example"
            opened = now - timedelta(days=rng.uniform(0, 30), minutes=rng.randint(0, 600))
            with time_machine.travel(opened, tick=False):
                first_mail = self._mail(name, address, to, subject, body.format(first=first, handle=handle))
                inbound, _ = store_inbound(first_mail, esp="demo", envelope_recipient=to, enqueue=False)
                process_inbound(inbound.pk)
            ticket = _ticket_of(inbound.pk)
            services.update_ticket(ticket, actor=None, tags=tags)
            fate = rng.random()
            if fate < 0.5 and opened < now - timedelta(days=2):
                # Work older than two days is done, but for a few tickets nobody picked up: the breaches a lead
                # sees are a handful to act on rather than the whole month.
                if fate < 0.25 and left_behind < self.LEFT_BEHIND:
                    left_behind += 1
                else:
                    fate = 0.65 + fate * 0.7
            if fate < 0.25:
                continue  # still new and unassigned
            agent = rng.choice(associates[language])
            answered = max(
                opened + timedelta(minutes=1),
                min(opened + timedelta(minutes=rng.randint(20, 600)), now - timedelta(minutes=2)),
            )
            with time_machine.travel(answered, tick=False):
                services.update_ticket(ticket, actor=agent, assignee=agent, status=Ticket.Status.OPEN)
                answer_message = self._reply(ticket, agent, answer.format(first=first, handle=handle))
            if fate < 0.5 and follow_up:
                # Never in the future: a ticket opened an hour ago gets its follow-up before now.
                replied = min(
                    answered + timedelta(hours=rng.randint(1, 20)), now - timedelta(minutes=rng.randint(1, 30))
                )
                with time_machine.travel(max(replied, answered + timedelta(minutes=1)), tick=False):
                    reply = self._mail(
                        name,
                        address,
                        to,
                        f"Re: {ticket.tag} {subject}",
                        follow_up,
                        in_reply_to=answer_message.message_id,
                    )
                    inbound, _ = store_inbound(reply, esp="demo", envelope_recipient=to, enqueue=False)
                    process_inbound(inbound.pk)
            elif fate < 0.65:
                with time_machine.travel(answered + timedelta(minutes=1), tick=False):
                    services.update_ticket(ticket, actor=agent, status=Ticket.Status.PENDING)
            else:
                with time_machine.travel(answered + timedelta(minutes=2), tick=False):
                    services.update_ticket(ticket, actor=agent, status=Ticket.Status.SOLVED)
                if rng.random() < 0.15 and follow_up:
                    # Not solved after all: the requester writes again, the ticket reopens and is solved
                    # later, so first-contact resolution is below 100%.
                    self._reopen(ticket, agent, name, address, to, subject, follow_up, answered, rng)
        return count

    def _reopen(self, ticket, agent, name, address, to, subject, follow_up, answered, rng) -> None:
        import time_machine

        again = answered + timedelta(hours=rng.randint(2, 30))
        if again >= timezone.now():
            return
        with time_machine.travel(again, tick=False):
            last_reply = ticket.messages.filter(direction="out").last()
            reply = self._mail(
                name, address, to, f"Re: {ticket.tag} {subject}", follow_up, in_reply_to=last_reply.message_id
            )
            inbound, _ = store_inbound(reply, esp="demo", envelope_recipient=to, enqueue=False)
            process_inbound(inbound.pk)
        solved_again = again + timedelta(minutes=rng.randint(30, 240))
        if solved_again < timezone.now():
            with time_machine.travel(solved_again, tick=False):
                ticket.refresh_from_db()
                self._reply(ticket, agent, rng.choice(self.SECOND_ANSWERS[ticket.language]))
                services.update_ticket(ticket, actor=agent, status=Ticket.Status.SOLVED)

    LONG_THREAD = [
        # (who writes, text): a payment case that takes a few days, with a screenshot and a receipt attached
        ("requester", "Oi! Vendi moedas no app e o pagamento não caiu. Mando o print da tela e o comprovante."),
        ("agent", "Olá, Renata! Recebemos o print e o comprovante. Vou conferir com o time de pagamentos."),
        ("requester", "Obrigada. O valor era de R$ 182,40, feito no dia 2."),
        ("agent", "Encontramos o repasse: ele ficou retido na revisão de segurança. Já pedimos a liberação."),
        ("requester", "Ainda não apareceu na minha conta bancária. A tela do app está assim:"),
        ("agent", "O banco leva até 2 dias úteis depois da liberação. Acompanho por aqui."),
        ("requester", "Caiu agora de manhã! Só uma dúvida: os próximos também vão ficar retidos?"),
        (
            "agent",
            "Não devem: a revisão acontece só no primeiro saque acima de R$ 150. Qualquer coisa, é só responder.",
        ),
    ]
    # This one comes in HTML with the app's screen inline (a cid: image), as a phone's mail app sends a pasted
    # picture.
    INLINE_PICTURE_AT = 4

    def _long_thread(self, staff: dict) -> None:
        """One ticket with a long back-and-forth, attachments and an inline picture, so a long thread shows its
        collapsed start and the pictures a requester sends."""
        import time_machine

        screen = withdrawal_screen()

        agent = staff["fernanda.costa"]
        name, address, to = "Renata Albuquerque", "renata.albuquerque@example.com", "suporte@acolhe.example"
        subject = "Pagamento da venda de moedas não caiu"
        when = timezone.now() - timedelta(days=4)
        ticket: Ticket | None = None
        last_id = ""
        for position, (who, text) in enumerate(self.LONG_THREAD):
            when += timedelta(hours=7)
            with time_machine.travel(when, tick=False):
                if who == "agent":
                    assert ticket is not None  # the thread opens with the requester's mail
                    if position == 1:
                        services.update_ticket(ticket, actor=agent, assignee=agent, status=Ticket.Status.OPEN)
                    last_id = self._reply(ticket, agent, text).message_id
                    continue
                mail = EmailMessage()
                mail["From"], mail["To"] = f"{name} <{address}>", to
                mail["Subject"] = subject if ticket is None else f"Re: {ticket.tag} {subject}"
                mail["Date"], mail["Message-ID"] = format_datetime(timezone.now()), make_msgid(domain="example.com")
                if last_id:
                    mail["In-Reply-To"] = mail["References"] = last_id
                mail.set_content(text)
                if position == self.INLINE_PICTURE_AT:
                    cid = make_msgid(domain="example.com")
                    html = f'<p>{text}</p><p><img src="cid:{cid[1:-1]}" alt="tela do app"></p>'
                    mail.add_alternative(html, subtype="html")
                    html_part = cast(EmailMessage, mail.get_payload(1))  # the alternative just added
                    html_part.add_related(
                        screen,
                        maintype="image",
                        subtype="png",
                        cid=cid,
                        filename="tela-do-saque.png",
                        disposition="inline",
                    )
                if ticket is None:
                    mail.add_attachment(screen, maintype="image", subtype="png", filename="print-do-app.png")
                    receipt = "Comprovante de venda\nValor: R$ 182,40\nData: dia 2\n"
                    mail.add_attachment(receipt, subtype="plain", filename="comprovante.txt")
                inbound, _ = store_inbound(mail.as_bytes(), esp="demo", envelope_recipient=to, enqueue=False)
                process_inbound(inbound.pk)
                ticket = _ticket_of(inbound.pk)
        assert ticket is not None
        with time_machine.travel(when + timedelta(minutes=5), tick=False):
            services.update_ticket(ticket, actor=agent, status=Ticket.Status.SOLVED)

    def _mail(self, name, address, to, subject, body, in_reply_to="") -> bytes:
        mail = EmailMessage()
        mail["From"] = f"{name} <{address}>"
        mail["To"] = to
        mail["Subject"] = subject
        mail["Date"] = format_datetime(timezone.now())
        mail["Message-ID"] = make_msgid(domain="example.com")
        if in_reply_to:
            mail["In-Reply-To"] = in_reply_to
            mail["References"] = in_reply_to
        mail.set_content(body)
        return mail.as_bytes()

    def _reply(self, ticket: Ticket, agent, body: str) -> Message:
        # Demo replies are stored as already sent: nothing leaves the machine.
        from tickets.email.outbound import new_message_id, reply_subject, thread_headers

        in_reply_to, references = thread_headers(ticket)
        message = Message.objects.create(
            ticket=ticket, direction=Message.Direction.OUT, author=agent, from_address=ticket.queue.reply_address,
            from_name=ticket.queue.name, to_addresses=[ticket.requester.email], subject=reply_subject(ticket),
            body_text=body, message_id=new_message_id(), in_reply_to=in_reply_to, references=references,
            delivery_status=Message.Delivery.SENT, sent_at=timezone.now(), language=ticket.language,
        )  # fmt: skip
        if ticket.first_responded_at is None:
            ticket.first_responded_at = timezone.now()
            ticket.save(update_fields=["first_responded_at"])
        services.record_event(ticket, TicketEvent.Kind.REPLY_SENT, actor=agent, message=message)
        return message


def _ticket_of(inbound_pk: int) -> Ticket:
    """The ticket a demo mail was applied to."""
    ticket = InboundEmail.objects.select_related("ticket").get(pk=inbound_pk).ticket
    assert ticket is not None
    return ticket
