"""A rate point is one type from the request to the task message (``engine.contract``), and the per-process builds
(the catalogue, the Celery clients, the worker's heartbeat threads) are objects a test makes fresh or resets."""

from __future__ import annotations

import pytest

from engine.contract import MESSAGE_VERSION, JobRequest, TaskSpec


def test_a_rate_point_is_a_float_from_the_request_body_to_the_message_and_back():
    request = JobRequest.model_validate({"image_set_id": 1, "codecs": [{"name": "jpeg", "rate_points": [30, 62.5]}]})
    assert request.codecs[0].rate_points == [30.0, 62.5]
    assert all(type(p) is float for p in request.codecs[0].rate_points)
    spec = TaskSpec(7, 3, "jpeg", tuple(request.codecs[0].rate_points))
    args = spec.message_args()
    assert args == [7, 3, "jpeg", [30.0, 62.5]]
    assert TaskSpec.from_message(*args, message_version=MESSAGE_VERSION) == spec
    assert TaskSpec.from_message(7, 3, "jpeg", 30) == TaskSpec(7, 3, "jpeg", (30.0,))  # a version-1 message


def test_a_message_from_a_newer_licbench_is_refused():
    with pytest.raises(ValueError, match="newer than this worker"):
        TaskSpec.from_message(7, 3, "jpeg", [30.0], message_version=MESSAGE_VERSION + 1)


def test_celery_clients_are_one_per_broker_url_until_reset(tmp_path):
    from engine.queue import CeleryClients

    clients = CeleryClients()
    url = f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}"
    first = clients.for_url(url)
    assert clients.for_url(url) is first
    clients.reset()
    assert clients.for_url(url) is not first


def test_the_catalogue_rebuilds_its_codecs_after_reset(tmp_path):
    from app.services.jobs.catalog import Catalog

    catalog, built = Catalog(), []

    def context():
        built.append(1)
        return catalog.codec_context(tmp_path, "cpu", 1)

    codecs = catalog.registry_codecs(context)
    assert "jpeg" in codecs and catalog.registry_codecs(context) is codecs and len(built) == 1
    catalog.reset()
    assert catalog.registry_codecs(context) is not codecs and len(built) == 2
    assert Catalog().codec_context(tmp_path, "cpu", 1) is not catalog.codec_context(tmp_path, "cpu", 1)


def test_worker_life_reset_stops_its_threads_and_forgets_the_worker():
    from workers.heartbeat import WorkerLife

    life = WorkerLife()
    life.worker_id = "host:1"
    stop = life.stop
    life.reset()
    assert stop.is_set() and not life.stop.is_set() and life.worker_id is None
    assert life.shut_down() is None


def test_redis_workers_look_for_a_dead_workers_messages_on_every_sweep(settings_env, monkeypatch):
    # kombu scans Redis for messages past their visibility timeout on only every 10th 10-second tick by default:
    # a dead worker's task came back up to 100 s late (the fault tests waited for it)
    from kombu.transport.redis import Channel

    from app.settings import get_settings
    from engine.queue import make_celery

    monkeypatch.setenv("BROKER_VISIBILITY_TIMEOUT_S", "10")
    get_settings.cache_clear()
    options = make_celery("redis://127.0.0.1:6379/0").conf.broker_transport_options
    assert options == {"visibility_timeout": 10.0, "unacked_restore_interval": 5.0, "unacked_restore_throttle": 1}
    assert {"unacked_restore_interval", "unacked_restore_throttle"} <= set(Channel.from_transport_options)  # read
    monkeypatch.setenv("BROKER_VISIBILITY_TIMEOUT_S", "7200")
    get_settings.cache_clear()
    assert make_celery("redis://127.0.0.1:6379/0").conf.broker_transport_options["unacked_restore_interval"] == 10
