"""Checkpoint reading: tensors only, the state dict inside a training checkpoint unwrapped."""

from __future__ import annotations

import io

import pytest
import torch

from models.checkpoints import is_tensor_state_dict, read_checkpoint, unwrap_state_dict


def _saved(obj) -> io.BytesIO:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    buffer.seek(0)
    return buffer


def test_released_state_dict_is_read_as_is():
    state = {"w": torch.ones(2)}
    got = read_checkpoint(_saved(state))
    assert list(got) == ["w"] and torch.equal(got["w"], state["w"])


def test_training_checkpoint_is_unwrapped():
    got = read_checkpoint(_saved({"epoch": 3, "state_dict": {"w": torch.zeros(1)}}))
    assert list(got) == ["w"]
    assert unwrap_state_dict({"state_dict": "not a dict"}) == {"state_dict": "not a dict"}


def test_a_pickle_carrying_code_is_refused():
    with pytest.raises(Exception, match="Weights only load failed|weights_only"):
        read_checkpoint(_saved({"w": torch.ones(1), "code": io.StringIO("x")}))


def test_tensor_state_dict_check():
    assert is_tensor_state_dict({"w": torch.ones(1)})
    assert not is_tensor_state_dict({"w": 1.0})
    assert not is_tensor_state_dict([torch.ones(1)])
