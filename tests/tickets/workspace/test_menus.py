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
