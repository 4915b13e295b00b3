"""The embedded broker: kombu's SQLAlchemy transport on SQLite, made safe for workers that die.

kombu's own transport (``kombu.transport.sqlalchemy``) marks a row invisible when it hands the message out and
keeps the acknowledgement in the worker's memory only. So a worker killed with SIGKILL never gives its messages
back (there is no visibility timeout: the tasks are lost), acknowledged rows are never deleted (the table only
grows), and one SQLAlchemy session is shared by the consuming thread and the pool's result thread that
acknowledges or requeues (kombu notes that acks may come from other threads) -- a requeue from that thread once
stopped a worker with "This session is in 'prepared' state".

This transport keeps kombu's table layout and URL (``sqla+sqlite:///...``, chosen by
:func:`transport_for`) and changes three things:

- **Leases.** A delivered row stays in the table, invisible, with its lease time in ``timestamp``. The worker
  that holds it renews its leases every ``lease_seconds / 3`` from a thread; a row whose lease is older than
  ``lease_seconds`` is handed out again (its worker is gone). Like Redis's visibility timeout, except that it
  follows the worker's life rather than the task's length, so a long task is never delivered twice while
  its worker lives. Claiming is a conditional ``UPDATE`` (rowcount 1 wins), so two consumers never take the
  same row.
- **Acknowledged means deleted.** An ack deletes the row, a requeue (reject, or restore at shutdown) makes it
  visible again in place: the table holds only waiting and in-flight messages.
- **One short session per call**, under one lock per channel, whichever thread calls.
- **Prompt wake-up.** A consumer with nothing to take waits ``polling_interval`` between polls, but an ack or a
  requeue in its own process (the pool's result thread acknowledging a finished task) wakes it at once: the
  freed prefetch slot is filled with the next message without waiting out the poll. Messages put by other
  processes (the web server) are still found by the poll.

Tables are ``licbench_broker_queue``/``licbench_broker_message``; messages still waiting in kombu's old
``kombu_message`` table are moved over (and the old tables dropped) the first time a process opens the broker.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from json import dumps, loads
from queue import Empty
from time import monotonic

from kombu.transport import TRANSPORT_ALIASES, virtual
from kombu.transport import sqlalchemy as kombu_sqlalchemy
from kombu.utils.encoding import bytes_to_str
from sqlalchemy import create_engine, delete, event, func, insert, inspect, or_, select, text, update
from sqlalchemy.exc import IntegrityError

log = logging.getLogger(__name__)

ALIAS = "licbench-sqla"  # the kombu transport name of this module's Transport
QUEUE_TABLE = "licbench_broker_queue"
MESSAGE_TABLE = "licbench_broker_message"
DEFAULT_LEASE_SECONDS = 30.0
POLLING_SECONDS = 0.05  # kombu polls its table once a second by default: up to a second idle per task
CLAIM_TRIES = 5  # rows another consumer claimed first are skipped this many times per poll
# Transport options that are ours, not create_engine's (kombu passes the rest to create_engine).
_OWN_OPTIONS = (
    "lease_seconds",
    "polling_interval",
    "queue_tablename",
    "message_tablename",
    "callback",
    "errback",
    "max_retries",
    "interval_start",
    "interval_step",
    "interval_max",
    "retry_errors",
)


def _now() -> datetime:
    return datetime.now()  # naive local time, as kombu's own rows hold


class QoS(virtual.QoS):
    """kombu's in-memory bookkeeping of delivered messages, plus the row behind each one."""

    def ack(self, delivery_tag):
        self.channel.settle(delivery_tag, requeue=False)
        super().ack(delivery_tag)

    def reject(self, delivery_tag, requeue=False):
        if not self.channel.settle(delivery_tag, requeue=requeue) and requeue:
            self.channel._restore(self._delivered[delivery_tag])  # not one of our rows: send a copy
        self._quick_ack(delivery_tag)

    def restore_unacked(self):
        """Give every message still held back to the queue (its row becomes visible again)."""
        self._flush()
        errors = []
        while self._delivered:
            try:
                tag, message = self._delivered.popitem()
            except KeyError:  # pragma: no cover
                break
            try:
                if not self.channel.settle(tag, requeue=True):
                    self.channel._restore(message)
            except BaseException as exc:  # reported by kombu's restore_unacked_once
                errors.append((exc, message))
        return errors


class Channel(kombu_sqlalchemy.Channel):
    """kombu's SQLAlchemy channel with leases, delete-on-ack and a fresh session per database call."""

    QoS = QoS

    def __init__(self, connection, **kwargs):
        options = connection.client.transport_options
        self.lease_seconds = float(options.get("lease_seconds", DEFAULT_LEASE_SECONDS))
        self._lock = threading.RLock()
        self._leases: dict[str, int] = {}  # delivery tag -> message row id, for the messages this channel holds
        self._queue_ids: dict[str, int] = {}
        self._stop_renewing = threading.Event()
        self._renewer: threading.Thread | None = None
        super().__init__(connection, **kwargs)

    def _configure_entity_tablenames(self, opts):
        self.queue_tablename = opts.get("queue_tablename", QUEUE_TABLE)
        self.message_tablename = opts.get("message_tablename", MESSAGE_TABLE)
        _ = (self.queue_cls, self.message_cls)  # registers the declarative classes before the engine is made

    def _engine_from_config(self):
        conninfo = self.connection.client
        options = {k: v for k, v in conninfo.transport_options.items() if k not in _OWN_OPTIONS}
        engine = create_engine(conninfo.hostname, **options)
        if engine.dialect.name == "sqlite":

            @event.listens_for(engine, "connect")
            def _sqlite_pragmas(dbapi_connection, _record):  # readers never block the writer; wait for locks
                cursor = dbapi_connection.cursor()
                cursor.execute("PRAGMA journal_mode=WAL")
                # As the database (app/db/session.py): WAL + NORMAL never corrupts the file and skips an fsync per
                # put, claim and ack; a power cut may lose the last of them, and the sweep sends again any queued
                # task whose message is gone (``task_redelivery_s``).
                cursor.execute("PRAGMA synchronous=NORMAL")
                cursor.execute("PRAGMA busy_timeout=30000")
                cursor.close()

        return engine

    def _open(self):
        first = self.connection.client.hostname not in self._engines
        engine, factory = super()._open()
        if first:
            with kombu_sqlalchemy._MUTEX:
                _adopt_kombu_tables(engine, self.queue_tablename, self.message_tablename)
        return engine, factory

    def _session(self):
        return self._open()[1]()

    # -- queues --------------------------------------------------------------------------------------------
    def _queue_id(self, queue: str) -> int:
        if queue not in self._queue_ids:
            table = self.queue_cls.__table__
            with self._lock, self._session() as session:
                found = session.scalar(select(table.c.id).where(table.c.name == queue))
                if found is None:
                    try:
                        session.execute(insert(table).values(name=queue))
                        session.commit()
                    except IntegrityError:  # another process made it first
                        session.rollback()
                    found = session.scalar(select(table.c.id).where(table.c.name == queue))
                self._queue_ids[queue] = found
        return self._queue_ids[queue]

    def _new_queue(self, queue, **kwargs):
        self._queue_id(queue)

    def _get_or_create(self, queue):  # kombu's shared-session helpers are all replaced here
        raise NotImplementedError("the embedded broker keeps queue ids, not ORM objects")

    # -- messages ------------------------------------------------------------------------------------------
    def _put(self, queue, payload, **kwargs):
        table = self.message_cls.__table__
        queue_id = self._queue_id(queue)
        with self._lock, self._session() as session:
            session.execute(
                insert(table).values(
                    queue_id=queue_id, payload=dumps(payload), visible=True, timestamp=_now(), version=1
                )
            )
            session.commit()

    def _get(self, queue):
        """The oldest waiting message of ``queue``, or one whose lease ran out; raises ``Empty``."""
        table = self.message_cls.__table__
        queue_id = self._queue_id(queue)
        now = _now()
        claimable = or_(table.c.visible == True, table.c.timestamp < now - timedelta(seconds=self.lease_seconds))  # noqa: E712
        with self._lock, self._session() as session:
            for _ in range(CLAIM_TRIES):
                row = session.execute(
                    select(table.c.id, table.c.payload)
                    .where(table.c.queue_id == queue_id, claimable)
                    .order_by(table.c.id)
                    .limit(1)
                ).first()
                if row is None:
                    session.commit()
                    raise Empty()
                claimed = session.execute(
                    update(table)
                    .where(table.c.id == row.id, claimable)
                    .values(visible=False, timestamp=now, version=table.c.version + 1)
                )
                session.commit()
                if claimed.rowcount == 1:
                    payload = loads(bytes_to_str(row.payload))
                    self._leases[payload["properties"]["delivery_tag"]] = row.id
                    self._start_renewing()
                    return payload
        raise Empty()

    def settle(self, delivery_tag: str, requeue: bool) -> bool:
        """Delete the row of an acknowledged message, or make a requeued one visible again; False when this
        channel holds no row for ``delivery_tag``."""
        table = self.message_cls.__table__
        with self._lock:
            row_id = self._leases.pop(delivery_tag, None)
            if row_id is None:
                return False
            with self._session() as session:
                if requeue:
                    session.execute(update(table).where(table.c.id == row_id).values(visible=True))
                else:
                    session.execute(delete(table).where(table.c.id == row_id))
                session.commit()
        self.connection.wake()  # a prefetch slot is free (ack) or a message is back (requeue): poll now
        return True

    def _size(self, queue):
        table = self.message_cls.__table__
        queue_id = self._queue_id(queue)
        with self._lock, self._session() as session:
            return (
                session.scalar(
                    select(func.count())
                    .select_from(table)
                    .where(table.c.queue_id == queue_id, table.c.visible.is_(True))
                )
                or 0
            )  # noqa: E712

    def _purge(self, queue):
        """Delete the waiting messages of ``queue`` (messages being worked on stay); returns how many."""
        table = self.message_cls.__table__
        queue_id = self._queue_id(queue)
        with self._lock, self._session() as session:
            count = session.execute(delete(table).where(table.c.queue_id == queue_id, table.c.visible == True)).rowcount  # noqa: E712
            session.commit()
            return count

    # -- leases --------------------------------------------------------------------------------------------
    def _start_renewing(self) -> None:
        if self._renewer is None or not self._renewer.is_alive():
            self._renewer = threading.Thread(target=self._renew_loop, name="licbench-broker-leases", daemon=True)
            self._renewer.start()

    def _renew_loop(self) -> None:
        while not self._stop_renewing.wait(self.lease_seconds / 3):
            try:
                self.renew_leases()
            except Exception as exc:  # the next round tries again; a lease lasts three rounds
                log.warning("embedded broker: renewing leases failed: %s", exc)

    def renew_leases(self) -> int:
        """Mark every message this channel holds as still being worked on; returns how many."""
        table = self.message_cls.__table__
        with self._lock:
            ids = list(self._leases.values())
            if not ids:
                return 0
            with self._session() as session:
                session.execute(
                    update(table)
                    .where(table.c.id.in_(ids), table.c.visible == False)  # noqa: E712
                    .values(timestamp=_now())
                )
                session.commit()
        return len(ids)

    def close(self):
        try:
            super().close()  # gives back what this channel still holds (restore_unacked)
        finally:
            self._stop_renewing.set()


class Transport(kombu_sqlalchemy.Transport):
    """kombu transport ``licbench-sqla``: :class:`Channel` on kombu's SQLAlchemy transport."""

    Channel = Channel
    polling_interval = POLLING_SECONDS

    def __init__(self, client, **kwargs):
        super().__init__(client, **kwargs)
        self._wake = threading.Event()

    def wake(self) -> None:
        """End the consumer's current wait between polls (called after an ack or requeue in this process)."""
        self._wake.set()

    def drain_events(self, connection, timeout=None):
        """kombu's loop (poll every channel; deliver one message or wait ``polling_interval``), except that the
        wait ends early when :meth:`wake` is called: a task finished in this process frees a prefetch slot, and
        the next message is taken at once instead of up to ``polling_interval`` later."""
        started = monotonic()
        interval = self.polling_interval
        if timeout and interval and interval > timeout:
            interval = timeout
        while True:
            self._wake.clear()  # before the poll: a wake during it makes the wait below return at once
            try:
                self.cycle.get(self._deliver, timeout=timeout)
            except Empty:
                if timeout is not None and monotonic() - started >= timeout:
                    raise TimeoutError() from None
                if interval is not None:
                    self._wake.wait(interval)
            else:
                return


TRANSPORT_ALIASES.setdefault(ALIAS, f"{__name__}:Transport")


def transport_for(broker_url: str) -> str:
    """``broker_url`` with kombu's SQLAlchemy transport prefix (``sqla+``/``sqlalchemy+``) replaced by this
    module's transport; other URLs unchanged."""
    for prefix in ("sqla+", "sqlalchemy+"):
        if broker_url.startswith(prefix):
            return f"{ALIAS}+{broker_url[len(prefix) :]}"
    return broker_url


def _adopt_kombu_tables(engine, queue_table: str, message_table: str) -> None:
    """Move messages still waiting in kombu's own tables (an older licbench) into ours, then drop kombu's.
    Rows kombu marked invisible were consumed and are never delivered again by kombu: they are dropped."""
    names = set(inspect(engine).get_table_names())
    if "kombu_message" not in names or "kombu_queue" not in names:
        return
    with engine.begin() as connection:
        connection.execute(
            text(
                f"INSERT INTO {queue_table} (name) SELECT name FROM kombu_queue "
                f"WHERE name NOT IN (SELECT name FROM {queue_table})"
            )
        )
        moved = connection.execute(
            text(
                f"INSERT INTO {message_table} (visible, timestamp, payload, version, queue_id) "
                f"SELECT :visible, m.timestamp, m.payload, 1, q2.id FROM kombu_message m "
                f"JOIN kombu_queue q ON m.queue_id = q.id JOIN {queue_table} q2 ON q2.name = q.name "
                f"WHERE m.visible = :visible ORDER BY m.id"
            ),
            {"visible": True},
        ).rowcount
        connection.execute(text("DROP TABLE kombu_message"))
        connection.execute(text("DROP TABLE kombu_queue"))
    log.info("embedded broker: moved %s waiting messages from kombu's tables and dropped them", moved)
