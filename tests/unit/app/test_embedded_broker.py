"""The embedded broker's transport (engine/embedded_broker.py) on a SQLite file, in-process."""

from __future__ import annotations

import sqlite3
import threading
import time

from kombu import Connection, Exchange, Queue

from engine import embedded_broker

QUEUE = Queue("cpu", Exchange("cpu"), "cpu")


def _connection(path, lease: float = 30.0) -> Connection:
    return Connection(
        embedded_broker.transport_for(f"sqla+sqlite:///{path}"), transport_options={"lease_seconds": lease}
    )


def _rows(path) -> list[tuple[int, int]]:
    with sqlite3.connect(path) as db:
        return db.execute(f"SELECT id, visible FROM {embedded_broker.MESSAGE_TABLE} ORDER BY id").fetchall()


def _publish(connection: Connection, count: int) -> None:
    producer = connection.Producer()
    for i in range(count):
        producer.publish({"i": i}, exchange=QUEUE.exchange, routing_key="cpu", declare=[QUEUE])


def test_sqla_urls_get_the_embedded_transport_and_others_stay():
    assert embedded_broker.transport_for("sqla+sqlite:////x/b.sqlite") == "licbench-sqla+sqlite:////x/b.sqlite"
    assert embedded_broker.transport_for("sqlalchemy+sqlite:///b") == "licbench-sqla+sqlite:///b"
    assert embedded_broker.transport_for("redis://localhost:6379/0") == "redis://localhost:6379/0"


def test_ack_deletes_the_row_and_requeue_makes_it_visible_again(tmp_path):
    path = tmp_path / "broker.sqlite"
    with _connection(path) as connection:
        _publish(connection, 2)
        channel = connection.channel()
        first = QUEUE(channel).get(no_ack=False)
        assert first.payload == {"i": 0} and _rows(path) == [(1, 0), (2, 1)]  # delivered = invisible, kept
        first.ack()
        assert _rows(path) == [(2, 1)]  # acknowledged = deleted
        second = QUEUE(channel).get(no_ack=False)
        second.reject(requeue=True)
        assert _rows(path) == [(2, 1)]  # requeued in place, not copied
        assert QUEUE(channel).get(no_ack=False).payload == {"i": 1}


def test_a_dead_consumers_message_is_delivered_again_after_its_lease_and_not_before(tmp_path):
    path = tmp_path / "broker.sqlite"
    with _connection(path, lease=0.6) as alive, _connection(path, lease=0.6) as other:
        _publish(alive, 1)
        holder = alive.channel()
        held = QUEUE(holder).get(no_ack=False)
        time.sleep(1.0)  # longer than the lease: the holder's renewal thread keeps it
        assert QUEUE(other.channel()).get(no_ack=False) is None
        holder._stop_renewing.set()  # the holder dies (no more renewals)
        time.sleep(1.0)
        again = QUEUE(other.channel()).get(no_ack=False)
        assert again is not None and again.payload == held.payload
        again.ack()
        assert _rows(path) == []


def test_acks_and_requeues_from_other_threads_while_consuming_lose_and_duplicate_nothing(tmp_path):
    """Celery's pool acknowledges from its result thread while the main thread polls (kombu's own transport
    shared one session between them and once failed with "session is in 'prepared' state")."""
    path = tmp_path / "broker.sqlite"
    with _connection(path) as connection:
        _publish(connection, 60)
        channel = connection.channel()
        seen, done, errors, threads = set(), [], [], []

        def settle(message, requeue: bool) -> None:
            try:
                message.reject(requeue=True) if requeue else message.ack()
            except Exception as exc:  # noqa: BLE001 - collected for the assertion below
                errors.append(exc)

        deadline = time.monotonic() + 30
        while len(done) < 60 and time.monotonic() < deadline:
            message = QUEUE(channel).get(no_ack=False)
            if message is None:
                continue
            i = message.payload["i"]
            requeue = i % 3 == 0 and i not in seen  # every third message is requeued once
            seen.add(i)
            if not requeue:
                done.append(i)
            thread = threading.Thread(target=settle, args=(message, requeue))
            thread.start()
            threads.append(thread)
        for thread in threads:
            thread.join(timeout=10)
        assert errors == []
        assert sorted(done) == list(range(60))  # each exactly once
        assert _rows(path) == []


def test_waiting_messages_of_kombus_own_tables_are_moved_over(tmp_path):
    path = tmp_path / "broker.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript("""
            CREATE TABLE kombu_queue (id INTEGER PRIMARY KEY, name VARCHAR(200) UNIQUE);
            CREATE TABLE kombu_message (id INTEGER PRIMARY KEY, visible BOOLEAN, timestamp DATETIME,
                                        payload TEXT NOT NULL, version SMALLINT NOT NULL, queue_id INTEGER);
            INSERT INTO kombu_queue VALUES (1, 'cpu');
            INSERT INTO kombu_message VALUES (1, 0, '2026-01-01 00:00:00', '{"consumed": 1}', 2, 1);
        """)
    with _connection(tmp_path / "seed.sqlite") as seed:  # a real payload to move
        _publish(seed, 1)
    with sqlite3.connect(tmp_path / "seed.sqlite") as db:
        payload = db.execute(f"SELECT payload FROM {embedded_broker.MESSAGE_TABLE}").fetchone()[0]
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO kombu_message VALUES (2, 1, '2026-01-01 00:00:01', ?, 1, 1)", (payload,))
    embedded_broker.Channel._engines.pop(f"sqlite:///{path}", None)
    with _connection(path) as connection:
        message = QUEUE(connection.channel()).get(no_ack=False)
        assert message is not None and message.payload == {"i": 0}
        assert QUEUE(connection.channel()).get(no_ack=False) is None  # the consumed row was not revived
    with sqlite3.connect(path) as db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "kombu_message" not in tables and "kombu_queue" not in tables


def test_an_ack_wakes_the_waiting_consumer_for_the_next_message(tmp_path):
    """A worker holding its one prefetched message does not poll; when the pool acknowledges it, the consumer takes
    the next message at once, not after ``polling_interval`` (here an hour: only the wake-up can deliver it)."""
    path = tmp_path / "broker.sqlite"
    connection = Connection(
        embedded_broker.transport_for(f"sqla+sqlite:///{path}"), transport_options={"polling_interval": 3600}
    )
    with connection:
        _publish(connection, 2)
        channel = connection.channel()
        channel.basic_qos(prefetch_count=1)
        received = []
        consumer = connection.Consumer(
            QUEUE, channel=channel, callbacks=[lambda body, message: received.append(message)]
        )
        consumer.consume()
        connection.drain_events(timeout=5)  # the first message is waiting: no wait
        assert [m.payload for m in received] == [{"i": 0}]
        waiting = threading.Thread(target=connection.drain_events, daemon=True)  # prefetch full: it waits
        waiting.start()
        time.sleep(0.2)
        received[0].ack()
        waiting.join(timeout=30)
        assert not waiting.is_alive() and [m.payload for m in received] == [{"i": 0}, {"i": 1}]
        received[1].ack()
        assert _rows(path) == []
