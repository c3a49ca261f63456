"""The shared cache keeps one Redis client per server (helpdesk/cache.py): Django's own makes one per
operation. The client is shared by threads, each command on a connection of its own."""

import threading
import uuid

from django.core.cache import caches


def test_every_operation_uses_the_same_client():
    cache = caches["default"]
    clients = [cache._cache.get_client(key, write=write) for key in ("a", "b") for write in (False, True)]
    assert all(client is clients[0] for client in clients)


def test_threads_sharing_the_client_each_read_their_own_values():
    cache = caches["default"]
    prefix = uuid.uuid4().hex
    failures = []

    def work(n: int) -> None:
        for i in range(50):
            key = f"{prefix}:{n}:{i}"
            cache.set(key, (n, i), 30)
            got = cache.get_many([key, f"{prefix}:missing"])
            if got != {key: (n, i)}:
                failures.append((key, got))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert cache.get(f"{prefix}:7:49") == (7, 49)
