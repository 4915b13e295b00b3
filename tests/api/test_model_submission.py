"""POST /api/v1/models: bearer token, safe checkpoint loading, architecture check, smoke round trip."""

from __future__ import annotations

import io
import pickle

import pytest
import torch
from compressai.models import FactorizedPrior
from safetensors.torch import save as save_safetensors


def _state_dict(seed: int = 0, n: int = 8, m: int = 12) -> dict[str, torch.Tensor]:
    torch.manual_seed(seed)
    net = FactorizedPrior(N=n, M=m)
    net.update(force=True)
    return net.state_dict()


def _pth(state) -> bytes:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


@pytest.fixture
def token(api) -> str:
    from app.db.session import session_scope
    from app.services.accounts.tokens import create_token

    with session_scope() as session:
        return create_token(session, "tester")


def _submit(api, token, data, filename="model.pth", name="my-codec", architecture="bmshj2018-factorized", **extra):
    headers = {"Authorization": f"Bearer {token}" if token else ""}  # "" drops the api client's default token
    return api.post(
        "/api/v1/models",
        headers=headers,
        data={"name": name, "architecture": architecture, **extra},
        files={"checkpoint": (filename, data, "application/octet-stream")},
    )


def _submitted(api) -> dict:
    return {c["name"]: c for c in api.get("/api/v1/codecs").json() if c["kind"] == "submitted"}


def test_submission_needs_a_valid_token(api):
    assert _submit(api, None, _pth(_state_dict())).status_code == 401
    response = _submit(api, "lb_wrong", _pth(_state_dict()))
    assert response.status_code == 401 and "invalid" in response.json()["detail"]
    assert _submitted(api) == {}


def test_submitted_checkpoints_become_rate_points_of_one_codec(api, token):
    first = _submit(api, token, _pth(_state_dict(1)))
    assert first.status_code == 201, first.text
    assert first.json()["rate_point"] == 1
    second = _submit(api, token, save_safetensors(_state_dict(2)), filename="q2.safetensors", rate_point="2")
    assert second.status_code == 201, second.text
    codec = _submitted(api)["my-codec"]
    assert codec["rate_points"] == [1, 2] and codec["available"]
    assert _submit(api, token, _pth(_state_dict(3)), rate_point="2").status_code == 409


class _Exploit:
    def __reduce__(self):
        return (open, ("/tmp/licbench-pwned-marker", "w"))


def test_a_pickle_carrying_code_is_refused_and_never_executed(api, token, tmp_path):
    import os

    marker = "/tmp/licbench-pwned-marker"
    if os.path.exists(marker):
        os.remove(marker)
    payload = pickle.dumps({"state_dict": _Exploit()})
    response = _submit(api, token, payload)
    assert response.status_code == 422
    assert "weights_only" in response.json()["detail"]
    assert not os.path.exists(marker)
    assert _submitted(api) == {}


def test_keys_and_shapes_must_match_the_architecture(api, token):
    response = _submit(api, token, _pth(_state_dict()), architecture="bmshj2018-hyperprior")
    assert response.status_code == 422 and "do not match bmshj2018-hyperprior" in response.json()["detail"]
    state = _state_dict()
    state.pop("g_s.0.weight")
    assert _submit(api, token, _pth(state)).status_code == 422
    assert _submitted(api) == {}


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("architecture", "resnet50", "unknown architecture"),
        ("name", "Bad Name!", "field 'name'"),
        ("name", "jpeg", "built-in codec"),
    ],
)
def test_bad_fields_are_rejected(api, token, field, value, message):
    kwargs = {"name": "ok-name", "architecture": "bmshj2018-factorized", field: value}
    response = _submit(api, token, _pth(_state_dict()), **kwargs)
    assert response.status_code == 422 and message in response.json()["detail"]


def test_wrong_extension_and_oversized_checkpoints_are_rejected(api, token, monkeypatch):
    assert "must end in" in _submit(api, token, b"abc", filename="model.zip").json()["detail"]
    monkeypatch.setenv("MAX_CHECKPOINT_BYTES", "100")
    from app.settings import get_settings

    get_settings.cache_clear()
    assert _submit(api, token, _pth(_state_dict())).status_code == 413
