"""The one data set `make bench` measures against: 1,000,000 tickets, 5,000,000 messages and 10,000,000
events across 200 associates and 12 queues, in pt-BR and en (QUICK: 50,000 tickets and the same
proportions). Seeded with INSERT ... SELECT over generate_series, once per database: the table
`bench_dataset` records what was built, and later runs reuse it.

Runs inside a process whose Django is set up against the bench database.
"""

from __future__ import annotations

import sys
import time

FULL_TICKETS = 1_000_000
QUICK_TICKETS = 50_000
MESSAGES_PER_TICKET = 5
EVENTS_PER_TICKET = 10
ASSOCIATES = 200
QUEUES = 12
# Tickets arrive over the same ~231 days at any size, so a 30-day rollup reads the same share of them.
SPAN_SECONDS = 20_000_000
LONG_THREAD = 200
# Bumped whenever the shape of the data changes; a database with another version is rebuilt in place.
VERSION = 2

WORDS = " ".join(
    (
        "conta senha vídeo upload notificação bloqueio denúncia comentário perfil pagamento monetização",
        "transmissão ao vivo seguidores curtida direitos autorais música remoção recurso verificação",
        "selo acesso celular aplicativo erro travando lento sumiu apagado hackeada invadida recuperar",
        "email account password video notification blocked report comment profile payment payout",
        "livestream followers like copyright music removal appeal verification badge access phone app",
        "error crash slow missing deleted hacked recover login banned strike community guidelines",
        "subtitle thumbnail",
    )
).split()


# What the solved tickets were about, and the macro that answers each topic: 16 topics, each a few words in
# each language (shared words, such as "conta" or "vídeo", make neighbouring topics hard to tell apart). A
# share of the solved tickets was answered with a macro, as associates do: mostly their topic's macro, some
# the macro of a neighbouring topic or any other (the associate's choice, or a mail about two things). Their
# subject and first mail carry some of the topic's words among the usual ones, and most of them sit in the
# topic's home queue (the others where routing left them). Topics are skewed, as support requests are.
TOPICS = (
    ("Senha esquecida", "senha esqueci redefinir acesso", "password forgot reset access"),
    ("Conta invadida", "conta hackeada invadida recuperar", "account hacked compromised recover"),
    ("Pagamento atrasado", "pagamento atrasado transferência monetização", "payment payout late transfer"),
    ("Direitos autorais", "direitos autorais música remoção", "copyright music claim removal"),
    ("Transmissão ao vivo", "transmissão vivo travando lento", "livestream lag stream slow"),
    ("Selo de verificação", "verificação selo perfil oficial", "verification badge profile official"),
    ("Denúncia de comentário", "denúncia comentário ofensivo assédio", "report comment abusive harassment"),
    ("Conta bloqueada", "bloqueio banido recurso diretrizes", "banned appeal strike guidelines"),
    ("Falha no upload", "upload vídeo erro falhou", "upload video error failed"),
    ("Notificações", "notificação sumiu aplicativo celular", "notification missing app phone"),
    ("Vídeo apagado", "vídeo apagado sumiu recuperar", "video deleted missing recover"),
    ("Seguidores", "seguidores curtida caiu perderam", "followers likes dropped lost"),
    ("Legendas e miniaturas", "legenda miniatura editar vídeo", "subtitle thumbnail edit video"),
    ("Trocar e-mail", "email trocar alterar conta", "email change update account"),
    ("Código de login", "login entrar código celular", "login code sign phone"),
    ("Nota fiscal", "nota fiscal imposto pagamento", "tax invoice payment form"),
)
MACRO_SHARE = 40  # % of solved and closed tickets answered with a macro
HOME_QUEUE_SHARE = 75  # % of those in their topic's home queue
TOPIC_MACRO_SHARE = 80  # % answered with their topic's macro; half the rest a neighbouring topic's, half any
SUBJECT_WORDS_SHARE = 70  # % whose subject names the topic (the first mail always says something of it)
MACROS_VERSION = 1


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def insert_select(model, columns: dict[str, str], source: str, params: list | None = None) -> int:
    """INSERT INTO <model table> (...) SELECT <expressions> FROM <source>. Columns not given take their
    database default, else the field's default (as a constant), else NULL; generated columns are left to
    PostgreSQL. `params` fill placeholders in `source` only."""
    from django.db import connection
    from django.db.models import NOT_PROVIDED

    names, expressions, values = [], [], []
    for field in model._meta.concrete_fields:
        column = field.column
        if field.generated:
            continue
        if column in columns:
            names.append(column)
            expressions.append(columns[column])
        elif field.primary_key or field.db_default is not NOT_PROVIDED:
            continue
        elif field.has_default():
            names.append(column)
            expressions.append("%s")
            values.append(field.get_db_prep_save(field.get_default(), connection))
        elif field.empty_strings_allowed and not field.null:
            names.append(column)
            expressions.append("''")
        elif not field.null:
            raise ValueError(f"no value for {model.__name__}.{field.name}")
    quoted = ", ".join(f'"{name}"' for name in names)
    sql = f'INSERT INTO "{model._meta.db_table}" ({quoted}) SELECT {", ".join(expressions)} FROM {source}'
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, *(params or [])])
        return cursor.rowcount


def phrase(seed: str, length: int) -> str:
    """SQL for `length` words: like real mail, half from a small skewed (Zipf-like) support vocabulary, half
    from a long tail of 50,000 rarer tokens."""
    words = "ARRAY[" + ",".join("'" + w.replace("'", "''") + "'" for w in WORDS) + "]"
    h = f"abs(hashint4({seed} * 37 + i))"
    u = f"(mod({h}, 1000003)::float8 / 1000003)"
    word = (
        f"CASE WHEN mod({h}, 2) = 0 THEN ({words})[1 + floor({len(WORDS)} * power({u}, 2))::int] "
        f"ELSE 'termo' || mod(abs(hashint4({seed} * 91 + i)), 50000) END"
    )
    return f"array_to_string(ARRAY(SELECT {word} FROM generate_series(1, {length}) i), ' ')"


def _sql(statement: str, params: list | None = None) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])
        return cursor.rowcount


def _marker() -> dict | None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_dataset (stage text PRIMARY KEY, tickets int NOT NULL, "
            "version int NOT NULL, seeded_at timestamptz NOT NULL DEFAULT now())"
        )
        cursor.execute("SELECT stage, tickets, version, seeded_at FROM bench_dataset")
        return {stage: (tickets, version, at) for stage, tickets, version, at in cursor.fetchall()}


def _mark(stage: str, tickets: int, version: int = VERSION) -> None:
    _sql(
        "INSERT INTO bench_dataset (stage, tickets, version) VALUES (%s, %s, %s) "
        "ON CONFLICT (stage) DO UPDATE SET tickets = EXCLUDED.tickets, version = EXCLUDED.version, seeded_at = now()",
        [stage, tickets, version],
    )


def people_and_queues() -> tuple[list, list]:
    """12 queues (pt and en), 200 associates in two teams of 100 with a lead each; `bench1` belongs to
    every queue (the widest lists), `bench0` to two."""
    from django.contrib.auth.models import Group, User

    from tickets.models import Profile, Queue, Role, Team

    queues = []
    for i in range(QUEUES):
        queue, _ = Queue.objects.get_or_create(
            slug=f"bench-{i}", defaults={"name": f"Bench {i}", "languages": ["pt"] if i % 2 == 0 else ["en"]}
        )
        queues.append(queue)
    teams = [Team.objects.get_or_create(name=f"Bench team {t}")[0] for t in ("A", "B")]
    associate_group, _ = Group.objects.get_or_create(name=Role.ASSOCIATE)
    lead_group, _ = Group.objects.get_or_create(name=Role.TEAM_LEAD)
    existing = {u.username: u for u in User.objects.filter(username__startswith="bench")}
    users = []
    for i in range(ASSOCIATES + 1):
        username = f"bench{i}"
        user = existing.get(username) or User.objects.create(username=username, first_name=f"Bench {i}")
        users.append(user)
    Profile.objects.bulk_create(
        [Profile(user=u, languages=["pt", "en"], team=teams[i % 2] if i else None) for i, u in enumerate(users)],
        update_conflicts=True,
        unique_fields=["user"],
        update_fields=["languages", "team"],
    )
    Group.user_set.through.objects.bulk_create(
        [Group.user_set.through(group=associate_group, user=u) for u in users], ignore_conflicts=True
    )
    Queue.members.through.objects.bulk_create(
        [Queue.members.through(queue=q, user=u) for i, u in enumerate(users) for q in (queues if i else queues[:2])],
        ignore_conflicts=True,
    )
    for team, name in zip(teams, ("benchleada", "benchleadb"), strict=True):
        lead = existing.get(name) or User.objects.create(username=name, first_name=name)
        lead.groups.add(lead_group)
        Profile.objects.update_or_create(user=lead, defaults={"languages": ["pt", "en"]})
        team.leads.add(lead)
    return queues, users[1:]


def _tickets_sql(tickets: int, first_requester: int, requesters: int, queue_ids: str, user_ids: str) -> dict:
    spacing = SPAN_SECONDS // tickets
    status = (
        "CASE WHEN mod(g, 20) < 2 THEN 'new' WHEN mod(g, 20) < 5 THEN 'open' WHEN mod(g, 20) = 5 THEN 'pending' "
        "WHEN mod(g, 20) < 15 THEN 'solved' ELSE 'closed' END"
    )
    active = "mod(g, 20) < 6"
    created = f"now() - make_interval(secs => ({tickets} - g) * {spacing})"
    return {
        "subject": f"'bench ' || {phrase('g', 4)}",
        "status": status,
        "priority": "1 + mod(g * 7, 4)",
        "language": "CASE WHEN mod(g, 3) = 0 THEN 'en' ELSE 'pt' END",
        "queue_id": f"({queue_ids})[1 + mod(g, {QUEUES})]",
        "requester_id": f"{first_requester} + 1 + mod(g * 31, {requesters})",
        "assignee_id": f"CASE WHEN mod(g, 20) < 2 THEN NULL ELSE ({user_ids})[1 + mod(g * 7, {ASSOCIATES})] END",
        "tags": "CASE WHEN mod(g, 10) = 0 THEN ARRAY['vip']::varchar[] ELSE '{}'::varchar[] END",
        "created_at": created,
        "updated_at": f"{created} + interval '1 hour'",
        "last_message_at": f"{created} + interval '1 hour'",
        "first_responded_at": f"CASE WHEN mod(g, 20) >= 2 THEN {created} + interval '30 minutes' END",
        "first_response_due_at": "CASE WHEN mod(g, 20) < 2 "
        "THEN now() + make_interval(mins => mod(g * 13, 600) - 60) END",
        "resolution_due_at": f"CASE WHEN {active} THEN now() + make_interval(hours => mod(g * 17, 96) - 12) END",
        "solved_at": f"CASE WHEN NOT ({active}) THEN {created} + interval '1 day' END",
        "closed_at": f"CASE WHEN mod(g, 20) >= 15 THEN {created} + interval '2 days' END",
    }


def _seed_sla_checks(first_ticket: int) -> None:
    """Every running clock is checked by the sweep some day; none of them before the bench moves 10,000 due."""
    from tickets.models.core import SlaCheck

    later = f"now() + interval '3650 days' + make_interval(secs => id - {first_ticket})"
    insert_select(
        SlaCheck,
        {"ticket_id": "id", "next_check_at": later},
        f"tickets_ticket WHERE id > {first_ticket} AND subject LIKE 'bench %%' "
        "AND status IN ('new', 'open', 'pending')",
    )


def _seed_tickets_and_messages(tickets: int, queues: list, users: list) -> None:
    from tickets.models import Message, Requester, Ticket

    queue_ids = "ARRAY[" + ",".join(str(q.pk) for q in queues) + "]"
    user_ids = "ARRAY[" + ",".join(str(u.pk) for u in users) + "]"
    requesters = max(1, tickets // 5)
    first_requester = Requester.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    started = time.monotonic()
    insert_select(
        Requester,
        {
            "id": f"{first_requester} + g",
            "email": "'bench' || g || '@example.com'",
            "name": "'Pessoa ' || g",
            "language": "CASE WHEN mod(g, 3) = 0 THEN 'en' ELSE 'pt' END",
            "created_at": "now()",
        },
        f"generate_series(1, {requesters}) g",
    )
    for index in ("ticket_search_gin", "message_search_gin"):
        _sql(f"DROP INDEX IF EXISTS {index}")
    first_ticket = Ticket.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    columns = _tickets_sql(tickets, first_requester, requesters, queue_ids, user_ids)
    insert_select(Ticket, {"id": f"{first_ticket} + g", **columns}, f"generate_series(1, {tickets}) g")
    _seed_sla_checks(first_ticket)
    for table in ("tickets_requester", "tickets_ticket"):
        _sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    log(f"  tickets in {time.monotonic() - started:.0f} s")
    spacing = SPAN_SECONDS // tickets
    insert_select(
        Message,
        {
            "ticket_id": f"{first_ticket} + 1 + mod(g - 1, {tickets})",
            "direction": f"CASE WHEN mod(g / {tickets}, 5) = 1 THEN 'out' "
            f"WHEN mod(g / {tickets}, 5) = 3 THEN 'note' ELSE 'in' END",
            "from_address": "'bench' || mod(g, 1000) || '@example.com'",
            "body_text": phrase("g", 24),
            "delivery_status": "'received'",
            "language": "'pt'",
            "created_at": f"now() - make_interval(secs => ({tickets} - mod(g - 1, {tickets})) * {spacing}) "
            f"+ make_interval(mins => g / {tickets})",
        },
        f"generate_series(1, {MESSAGES_PER_TICKET * tickets}) g",
    )
    long_ticket = Ticket.objects.filter(subject__startswith="bench ", status="open").order_by("pk").first()
    insert_select(
        Message,
        {
            "ticket_id": str(long_ticket.pk),
            "direction": "CASE WHEN mod(g, 2) = 0 THEN 'out' ELSE 'in' END",
            "body_text": phrase("g + 7", 60),
            "delivery_status": "'received'",
            "language": "'pt'",
            "created_at": "now() - make_interval(mins => 400 - g)",
        },
        f"generate_series(1, {LONG_THREAD - MESSAGES_PER_TICKET}) g",
    )
    Ticket.objects.filter(pk=long_ticket.pk).update(tags=["bench-long"])
    _sql("SET CONSTRAINTS ALL IMMEDIATE")  # run the deferred foreign key checks before building indexes
    _sql("CREATE INDEX ticket_search_gin ON tickets_ticket USING gin (search_document)")
    _sql("CREATE INDEX message_search_gin ON tickets_message USING gin (search_document)")
    log(f"  messages in {time.monotonic() - started:.0f} s")


def _spread_over_people_and_queues(tickets: int, queues: list, users: list) -> None:
    """Bring a data set of the first version (8 queues, 16 associates, no clocks) to this one in place."""
    queue_ids = "ARRAY[" + ",".join(str(q.pk) for q in queues) + "]"
    user_ids = "ARRAY[" + ",".join(str(u.pk) for u in users) + "]"
    created = "created_at"
    _sql(
        f"UPDATE tickets_ticket SET queue_id = ({queue_ids})[1 + mod(id, {QUEUES})], "
        f"assignee_id = CASE WHEN mod(id, 20) < 2 THEN NULL ELSE ({user_ids})[1 + mod(id * 7, {ASSOCIATES})] END, "
        f"first_responded_at = CASE WHEN mod(id, 20) >= 2 THEN {created} + interval '30 minutes' END, "
        f"closed_at = CASE WHEN status = 'closed' THEN {created} + interval '2 days' END "
        "WHERE subject LIKE 'bench %%'"
    )
    _sql(
        "DELETE FROM tickets_slacheck WHERE ticket_id IN (SELECT id FROM tickets_ticket WHERE subject LIKE 'bench %%')"
    )
    _seed_sla_checks(0)


def _seed_events() -> None:
    """Ten events per ticket, in the order a ticket lives: created, the mail, assigned, opened, replies,
    a note, solved, closed (the active ones get other changes instead)."""
    started = time.monotonic()
    for index in ("event_ticket_created", "event_kind_created", "event_actor_created"):
        _sql(f"DROP INDEX IF EXISTS {index}")
    # The rows are built from tickets and users that exist: skip the per-row foreign key triggers.
    _sql("SET session_replication_role = replica")
    kind = (
        "CASE k WHEN 0 THEN 'created' WHEN 1 THEN 'message_received' WHEN 2 THEN 'assigned' "
        "WHEN 3 THEN 'status_changed' WHEN 4 THEN 'reply_sent' WHEN 5 THEN 'message_received' "
        "WHEN 6 THEN 'reply_sent' WHEN 7 THEN 'note_added' "
        "WHEN 8 THEN CASE WHEN t.status IN ('solved', 'closed') THEN 'status_changed' ELSE 'priority_changed' END "
        "ELSE CASE WHEN t.status = 'closed' THEN 'status_changed' WHEN mod(t.id, 50) = 7 THEN 'reopened' "
        "ELSE 'tags_changed' END END"
    )
    offset = (
        "CASE k WHEN 0 THEN interval '0' WHEN 1 THEN interval '1 second' WHEN 2 THEN interval '5 minutes' "
        "WHEN 3 THEN interval '10 minutes' WHEN 4 THEN interval '30 minutes' WHEN 5 THEN interval '2 hours' "
        "WHEN 6 THEN interval '3 hours' WHEN 7 THEN interval '4 hours' WHEN 8 THEN interval '1 day' "
        "ELSE interval '2 days' END"
    )
    actor = "CASE WHEN k IN (0, 1, 5) THEN NULL ELSE t.assignee_id END"
    old = (
        "CASE WHEN k = 3 THEN '\"new\"'::jsonb WHEN k = 8 AND t.status IN ('solved', 'closed') THEN '\"open\"'::jsonb "
        "WHEN k = 9 AND t.status = 'closed' THEN '\"solved\"'::jsonb END"
    )
    new = (
        "CASE k WHEN 0 THEN jsonb_build_object('queue', q.slug, 'language', t.language) "
        "WHEN 2 THEN CASE WHEN t.assignee_id IS NOT NULL THEN jsonb_build_object('id', t.assignee_id) END "
        "WHEN 3 THEN '\"open\"'::jsonb "
        "WHEN 8 THEN CASE WHEN t.status IN ('solved', 'closed') THEN '\"solved\"'::jsonb ELSE '3'::jsonb END "
        "WHEN 9 THEN CASE WHEN t.status = 'closed' THEN '\"closed\"'::jsonb ELSE NULL END END"
    )
    rows = _sql(
        "INSERT INTO tickets_ticketevent (ticket_id, actor_id, kind, old_value, new_value, created_at) "
        f"SELECT t.id, {actor}, {kind}, {old}, {new}, t.created_at + {offset} "
        "FROM tickets_ticket t JOIN tickets_queue q ON q.id = t.queue_id CROSS JOIN generate_series(0, 9) k "
        "WHERE t.subject LIKE 'bench %%' ORDER BY t.id, k"
    )
    _sql("SET session_replication_role = DEFAULT")
    log(f"  {rows:,} events in {time.monotonic() - started:.0f} s")
    _sql('CREATE INDEX event_ticket_created ON tickets_ticketevent ("ticket_id", "created_at")')
    _sql('CREATE INDEX event_kind_created ON tickets_ticketevent ("kind", "created_at")')
    _sql('CREATE INDEX event_actor_created ON tickets_ticketevent ("actor_id", "created_at")')
    log(f"  event indexes in {time.monotonic() - started:.0f} s")


def _macro_use_sql() -> str:
    """SQL for the solved bench tickets answered with a macro: (id, topic, home queue index, macro index, whether
    routing left it elsewhere), each a fixed function of the ticket's id, so a rerun picks the same ones."""
    u = "(mod(abs(hashint4(t.id::int * 53 + 7)), 1000003)::float8 / 1000003)"
    h = "mod(abs(hashint4(t.id::int * 29 + 3)), 100)"
    other = f"mod(abs(hashint4(t.id::int * 17 + 1)), {len(TOPICS)})"
    return (
        f"SELECT id, topic, mod(topic, {QUEUES}) AS home, "
        f"CASE WHEN {h} < {TOPIC_MACRO_SHARE} THEN topic "
        f"WHEN {h} < {TOPIC_MACRO_SHARE + (100 - TOPIC_MACRO_SHARE) // 2} THEN topic # 1 ELSE {other} END AS macro, "
        f"mod(abs(hashint4(t.id::int * 31 + 11)), 100) >= {HOME_QUEUE_SHARE} AS elsewhere "
        f"FROM (SELECT t.id, floor({len(TOPICS)} * power({u}, 1.5))::int AS topic FROM tickets_ticket t "
        "WHERE t.subject LIKE 'bench %%' AND t.status IN ('solved', 'closed') "
        f"AND mod(abs(hashint4(t.id::int * 13 + 5)), 100) < {MACRO_SHARE}) t"
    )


def _words_sql(column: str, count: int, salt: int) -> str:
    """SQL for `count` words of the ticket's topic in its language, picked by the ticket's id."""

    def matrix(words_of) -> str:  # a text[][] of the topics' words in one language, 4 per topic
        rows = (",".join(f"'{word}'" for word in words_of(topic).split()) for topic in TOPICS)
        return "ARRAY[" + ",".join(f"ARRAY[{row}]" for row in rows) + "]"

    pt, en = matrix(lambda topic: topic[1]), matrix(lambda topic: topic[2])
    pick = f"1 + mod(abs(hashint4({column}::int * {salt} + k)), 4)"
    word = f"CASE WHEN lang = 'en' THEN ({en})[topic + 1][{pick}] ELSE ({pt})[topic + 1][{pick}] END"
    return f"array_to_string(ARRAY(SELECT {word} FROM generate_series(1, {count}) k), ' ')"


def _seed_macro_use(queues: list, *, text: bool) -> int:
    """One macro per topic; a share of the solved tickets answered with one (`MACRO_APPLIED`, as the reply
    composer records it). With `text`, also write the topic into those tickets' subject and first mail and
    move most of them to their topic's home queue (once: the words are added, not replaced)."""
    from sop.models import Macro

    started = time.monotonic()
    macros = []
    for index, (name, pt, en) in enumerate(TOPICS):
        macro, _ = Macro.objects.get_or_create(
            name=f"Bench {index}: {name}",
            defaults={
                "body_pt": f"Olá {{{{ requester.first_name }}}}, sobre {pt}: siga estes passos.",
                "body_en": f"Hi {{{{ requester.first_name }}}}, about {en}: please follow these steps.",
            },
        )
        macros.append(macro)
    macro_ids = "ARRAY[" + ",".join(str(m.pk) for m in macros) + "]"
    macro_names = "ARRAY[" + ",".join("'" + m.name.replace("'", "''") + "'" for m in macros) + "]"
    queue_ids = "ARRAY[" + ",".join(str(q.pk) for q in queues) + "]"
    _sql("DROP TABLE IF EXISTS bench_macro_use")
    _sql(f"CREATE TEMP TABLE bench_macro_use AS {_macro_use_sql()}")
    _sql("ALTER TABLE bench_macro_use ADD PRIMARY KEY (id)")
    if text:
        subject_words = _words_sql("t.id", 2, 41)
        _sql(
            f"UPDATE tickets_ticket t SET queue_id = CASE WHEN u.elsewhere THEN t.queue_id "
            f"ELSE ({queue_ids})[u.home + 1] END, "
            f"subject = CASE WHEN mod(abs(hashint4(t.id::int * 7 + 2)), 100) < {SUBJECT_WORDS_SHARE} "
            f"THEN 'bench ' || (SELECT {subject_words} FROM (SELECT t.language AS lang, u.topic) v) "
            "|| substr(t.subject, 6) ELSE t.subject END "
            "FROM bench_macro_use u WHERE u.id = t.id"
        )
        body_words = _words_sql("m.ticket_id", 3, 43)
        _sql(
            f"UPDATE tickets_message m SET body_text = (SELECT {body_words} FROM (SELECT t.language AS lang, "
            "u.topic) v) || ' ' || m.body_text FROM bench_macro_use u JOIN tickets_ticket t ON t.id = u.id "
            "WHERE m.id = (SELECT f.id FROM tickets_message f WHERE f.ticket_id = u.id AND f.direction = 'in' "
            "ORDER BY f.created_at, f.id LIMIT 1)"
        )
    _sql(
        "DELETE FROM tickets_ticketevent e USING bench_macro_use u WHERE e.ticket_id = u.id AND e.kind = %s",
        ["macro_applied"],
    )
    rows = _sql(
        "INSERT INTO tickets_ticketevent (ticket_id, actor_id, kind, new_value, created_at) "
        f"SELECT t.id, t.assignee_id, 'macro_applied', jsonb_build_object('macro', ({macro_ids})[u.macro + 1], "
        f"'name', ({macro_names})[u.macro + 1]), t.created_at + interval '30 minutes' "
        "FROM bench_macro_use u JOIN tickets_ticket t ON t.id = u.id ORDER BY t.id"
    )
    for index, macro in enumerate(macros):
        _sql(
            "UPDATE sop_macro SET usage_count = (SELECT count(*) FROM bench_macro_use WHERE macro = %s) WHERE id = %s",
            [index, macro.pk],
        )
    _sql("DROP TABLE bench_macro_use")
    log(f"  {rows:,} tickets answered with a macro in {time.monotonic() - started:.0f} s")
    return rows


def ensure(quick: bool) -> dict:
    """Seed what this database lacks; return the data set's description."""
    from django.db import connection, transaction

    from tickets.models import Ticket

    tickets = QUICK_TICKETS if quick else FULL_TICKETS
    marker = _marker()
    with transaction.atomic():
        queues, users = people_and_queues()
    changed = False
    have = Ticket.objects.filter(subject__startswith="bench ").count()
    if have < tickets:
        log(f"seeding {tickets:,} tickets and {tickets * MESSAGES_PER_TICKET:,} messages (once)...")
        with transaction.atomic():
            _seed_tickets_and_messages(tickets, queues, users)
            _mark("tickets", tickets)
        changed = True
    elif marker.get("tickets", (0, 0))[1] != VERSION:
        log(f"spreading {have:,} tickets over {ASSOCIATES} associates and {QUEUES} queues (once)...")
        with transaction.atomic():
            _spread_over_people_and_queues(have, queues, users)
            _mark("tickets", have)
        changed = True
    if changed or "events" not in marker:
        log(f"seeding {tickets * EVENTS_PER_TICKET:,} events (once)...")
        if "events" in marker:
            _sql("TRUNCATE tickets_ticketevent")
        with transaction.atomic():
            _seed_events()
            _mark("events", tickets)
        changed = True
    if changed or marker.get("macros", (0, 0))[1] != MACROS_VERSION:
        # The events stage truncates the log: the macro events come back with it; the words stay written.
        text = marker.get("macros", (0, 0))[1] != MACROS_VERSION
        log("recording macro use on solved tickets (once)...")
        with transaction.atomic():
            _seed_macro_use(queues, text=text)
            _mark("macros", tickets, MACROS_VERSION)
        changed = True
    if changed:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    with connection.cursor() as cursor:
        cursor.execute("SELECT seeded_at FROM bench_dataset WHERE stage = 'events'")
        (events_at,) = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM tickets_ticket WHERE subject LIKE 'bench %%'")
        (count,) = cursor.fetchone()
    return {"tickets": count, "events_seeded_at": events_at}


# The hostile message: one 2 MB mail (a reply with a pasted application log) on an ordinary open ticket,
# carrying the common search words in its opening and all through the log, so the most common searches
# match it. Added after the data set is built; found again by its Message-ID.
HOSTILE_MESSAGE_ID = "<bench-hostile-2mb@bench.example>"
HOSTILE_BYTES = 2 * 1024 * 1024
HOSTILE_HEAD = (
    "Olá, minha conta foi hackeada e não consigo trocar a senha. Segue o log do aplicativo.\n"
    "Hello, my account was hacked (hacked account) and the password reset fails. Log below.\n\n"
)
HOSTILE_LINE = "2025-03-11T10:{m:02d}:{s:02d}Z WARN auth: conta {n} senha inválida, hacked account lockout retry=3\n"


def hostile_body() -> str:
    lines, total, n = [HOSTILE_HEAD], len(HOSTILE_HEAD), 0
    while total < HOSTILE_BYTES:
        line = HOSTILE_LINE.format(m=n // 60 % 60, s=n % 60, n=n)
        lines.append(line)
        total += len(line)
        n += 1
    return "".join(lines)[:HOSTILE_BYTES]


def ensure_hostile_message() -> int:
    """Add the 2 MB hostile message to the newest open bench ticket unless it is there; return its id.
    Idempotent: a second call finds the message by its Message-ID."""
    from tickets.models import Message, Ticket

    found = Message.objects.filter(message_id=HOSTILE_MESSAGE_ID).values_list("pk", flat=True).first()
    if found is not None:
        return found
    ticket = Ticket.objects.filter(subject__startswith="bench ", status="open").order_by("-pk").first()
    if ticket is None:
        raise RuntimeError("no bench ticket: build the data set first (dataset.ensure)")
    message = Message.objects.create(
        ticket=ticket,
        direction=Message.Direction.IN,
        from_address=ticket.requester.email,
        body_text=hostile_body(),
        message_id=HOSTILE_MESSAGE_ID,
        delivery_status=Message.Delivery.RECEIVED,
        language="pt",
    )
    log(f"hostile message {message.pk} ({HOSTILE_BYTES:,} bytes) on ticket #{ticket.number}")
    return message.pk
