from tests.factories import MessageFactory, TicketFactory
from tickets.models import Message, Ticket, TicketEvent


def solved(queue, subject, first, reply, *, macro=None, **fields):
    """A solved ticket with the requester's mail, the associate's reply and, given one, the macro applied."""
    ticket = TicketFactory(queue=queue, subject=subject, status=Ticket.Status.SOLVED, **fields)
    MessageFactory(ticket=ticket, body_text=first)
    MessageFactory(ticket=ticket, direction=Message.Direction.OUT, body_text=reply)
    if macro is not None:
        TicketEvent.objects.create(
            ticket=ticket, kind=TicketEvent.Kind.MACRO_APPLIED, new_value={"macro": macro.pk, "name": macro.name}
        )
    return ticket
