"""Domain signals: how the core tells the apps built on it (`sop`, `metrics`) that something happened,
without importing them. Each is sent from one service and connected in the listening app's
`AppConfig.ready()`, as `django.contrib.auth` connects `user_logged_in` to `update_last_login`."""

from django.dispatch import Signal

# A ticket became solved (from any other status), inside the transaction that solved it. Arguments:
# `ticket`. Receivers run in that transaction: what they write commits or rolls back with the solve.
ticket_solved = Signal()

# The personal content of these tickets was erased (erasure or retention), inside that transaction.
# Arguments: `ticket_ids`. Receivers erase what their app keeps about those tickets in the same way.
tickets_scrubbed = Signal()

# `manage.py seed_demo` put the core's demo data in place (`tickets_loaded`: the demo tickets were loaded
# by this run, not found from an earlier one). Receivers add their app's demo data; safe to run again.
demo_seeded = Signal()
