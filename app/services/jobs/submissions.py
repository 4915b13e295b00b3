"""Model submission: validate a checkpoint fully before anything is stored."""

from __future__ import annotations

import hashlib
import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.tables import ApiToken, SubmittedModel
from app.services.errors import Conflict, Invalid
from app.services.jobs import catalog
from app.services.storage import LocalStorage
from models.photos import load_photo
from models.submitted import SUBMITTABLE_ARCHITECTURES, CheckpointError, build_network, read_state_dict, smoke_test

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
SMOKE_IMAGE_SIZE = 64


def _smoke_image():
    """A small natural crop (astronaut) for the round-trip check."""
    return load_photo("astronaut")[200 : 200 + SMOKE_IMAGE_SIZE, 200 : 200 + SMOKE_IMAGE_SIZE].copy()


def submit_model(
    session: Session,
    storage: LocalStorage,
    token: ApiToken,
    name: str,
    architecture: str,
    filename: str,
    data: bytes,
    rate_point: int | None,
) -> SubmittedModel:
    """Register ``data`` as rate point ``rate_point`` of submitted codec ``name``; stores nothing on error."""
    name = (name or "").strip()
    if not NAME_PATTERN.match(name):
        raise Invalid(
            "field 'name' must be 1-64 characters of a-z, 0-9, '.', '_', '-' (starting with a letter or digit)"
        )
    if name in catalog.registry_codecs():
        raise Invalid(f"name {name!r} is taken by a built-in codec")
    if architecture not in SUBMITTABLE_ARCHITECTURES:
        raise Invalid(f"unknown architecture {architecture!r}; choose one of {', '.join(SUBMITTABLE_ARCHITECTURES)}")
    existing = list(session.scalars(select(SubmittedModel).where(SubmittedModel.name == name)))
    if existing and existing[0].architecture != architecture:
        raise Invalid(f"codec {name!r} already uses architecture {existing[0].architecture!r}")
    if rate_point is None:
        rate_point = max((m.rate_point for m in existing), default=0) + 1
    if rate_point < 1:
        raise Invalid("field 'rate_point' must be a positive integer")
    if any(m.rate_point == rate_point for m in existing):
        raise Conflict(f"codec {name!r} already has a checkpoint for rate point {rate_point}")
    if not data:
        raise Invalid("checkpoint file is empty")
    try:
        state = read_state_dict(filename, data)
        smoke_test(build_network(architecture, state), _smoke_image())
    except CheckpointError as exc:
        raise Invalid(str(exc)) from None
    digest = hashlib.sha256(data).hexdigest()
    suffix = ".safetensors" if filename.lower().endswith(".safetensors") else ".pth"
    key = f"checkpoints/{digest}{suffix}"
    if not storage.exists(key):
        storage.put(key, data)
    model = SubmittedModel(
        name=name,
        architecture=architecture,
        rate_point=rate_point,
        checkpoint_key=key,
        checkpoint_sha256=digest,
        token_id=token.id,
    )
    session.add(model)
    session.flush()
    return model
