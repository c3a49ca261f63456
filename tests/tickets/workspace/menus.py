"""Reading a menu off a workspace page, for the tests of what pages keep until it changes."""

from django.urls import reverse


def page(client, url: str) -> str:
    return client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()


def menu(html: str, name: str) -> str:
    """The `<select name="...">` of the page, up to its end."""
    start = html.index(f'name="{name}"')
    return html[start : html.index("</select>", start)]


def list_menu(client, name: str) -> str:
    """A menu of the "all" list (its filters and bulk actions)."""
    return menu(page(client, reverse("workspace", args=["all"])), name)


def ticket_menu(client, ticket, name: str) -> str:
    """A menu of the ticket's page."""
    return menu(page(client, reverse("ticket", args=[ticket.number])), name)
