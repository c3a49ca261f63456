"""A kept menu (`Menu`) gives the `<option>`s the `options` tag and filter write for plain pairs, with a
value selected or left out, and survives the cache (pickled with its options)."""

import pickle

from tickets.templatetags import field_tags, workspace_tags
from tickets.workspace.menus import Menu

PEOPLE = [(3, "Ana Souza"), (7, "Bia <b>\"&'</b>"), (12, "Caio"), (40, "")]


def test_a_menu_writes_what_the_tags_write_for_plain_pairs():
    menu = pickle.loads(pickle.dumps(Menu(PEOPLE)))
    assert isinstance(menu, Menu) and list(menu) == PEOPLE
    for selected in [(), 7, "7", ["3", "12"], None, "none", ""]:
        for leave_out in [None, 3, 99]:
            assert workspace_tags.options(menu, selected, leave_out) == workspace_tags.options(
                list(PEOPLE), selected, leave_out
            )
    for selected in [None, 7, 12, 99, ""]:
        assert field_tags.options(menu, selected) == field_tags.options(list(PEOPLE), selected)
    assert 'value="7" selected>Bia &lt;b&gt;&quot;&amp;&#x27;&lt;/b&gt;</option>' in field_tags.options(menu, 7)
    assert 'value="3"' not in workspace_tags.options(menu, (), 3)


def test_the_people_menu_is_kept_under_a_key_code_from_before_it_never_reads(db):
    """A server still running code from before `Menu` (during a rolling deploy) keeps plain lists under the
    plain key; a `Menu`, which it could not unpickle, is kept under another."""
    import hashlib

    from django.core.cache import cache

    from tests.factories import QueueFactory, associate
    from tickets.workspace.selectors import PEOPLE, queue_members

    queue = QueueFactory()
    associate([queue], first_name="Ana", last_name="Souza")
    menu = queue_members([queue.pk])
    assert isinstance(menu, Menu) and [name for _pk, name in menu] == ["Ana Souza"]
    kept = {
        shape: cache.get(f"kept:{PEOPLE}:{hashlib.blake2b(shape.encode(), digest_size=20).hexdigest()}")
        for shape in (repr([queue.pk]), f"menu:{[queue.pk]!r}")
    }
    assert kept[repr([queue.pk])] is None
    assert isinstance(kept[f"menu:{[queue.pk]!r}"][1], Menu)
