"""schemathesis against the app's own OpenAPI document: generated requests for every operation, sent in-process
with a member's bearer token, never get a 5xx. Bounded: a few examples per operation, no shrinking."""

from __future__ import annotations

import os
import time

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings

EXAMPLES_PER_OPERATION = 4
TIME_BUDGET_S = 85


@pytest.fixture(scope="module")
def fuzzed_app(tmp_path_factory):
    """The app on a fresh SQLite data dir with one image set, for this module (environment restored after)."""
    from app.services.jobs import catalog
    from app.settings import get_settings

    saved = {k: os.environ.get(k) for k in ("DATA_DIR", "DATABASE_URL", "BROKER_URL")}
    os.environ["DATA_DIR"] = str(tmp_path_factory.mktemp("fuzz") / "data")
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("BROKER_URL", None)
    get_settings.cache_clear()
    catalog.offered.reset()
    try:
        from app.db.migrate import upgrade_to_head
        from app.main import create_app
        from tests.support.accounts import make_user

        upgrade_to_head()
        app = create_app()
        app.state.fuzz_headers = make_user("fuzzer").headers
        yield app
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        get_settings.cache_clear()
        catalog.offered.reset()


def _fuzz(operation, headers: dict[str, str], failures: list[str], statuses: list[int]) -> None:
    @given(operation.as_strategy())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def send(case) -> None:
        response = case.call(headers=headers)
        statuses.append(response.status_code)
        if response.status_code >= 500:
            failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:200]}")

    send()


def test_generated_requests_never_get_a_server_error(fuzzed_app):
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzzed_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 40
    failures: list[str] = []
    statuses: list[int] = []
    started, fuzzed = time.monotonic(), 0
    for operation in operations:
        if time.monotonic() - started > TIME_BUDGET_S:
            break
        _fuzz(operation, fuzzed_app.state.fuzz_headers, failures, statuses)
        fuzzed += 1
    assert not failures, "\n".join(failures)
    assert fuzzed == len(operations), f"time budget spent after {fuzzed} of {len(operations)} operations"
    assert len(statuses) >= len(operations)  # every operation was called at least once
    assert any(200 <= s < 300 for s in statuses) and any(400 <= s < 500 for s in statuses)
    print(
        f"schemathesis: {len(operations)} operations, {len(statuses)} requests, "
        f"{sum(s < 300 for s in statuses)} 2xx, {sum(400 <= s < 500 for s in statuses)} 4xx, "
        f"{time.monotonic() - started:.1f} s"
    )
