"""The shared leaderboard: REST and pages (issue 12). Anyone may read it; it covers public image sets only."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from app.api.deps import SessionDep
from app.api.routes.pages import templates
from app.services.errors import NotFound, ServiceError
from app.services.jobs import leaderboard

router = APIRouter(prefix="/api/v1", tags=["leaderboard"])
pages_router = APIRouter(include_in_schema=False)


class LeaderboardRow(BaseModel):
    rank: int | None = Field(description="1 = fewest bits at equal quality; null when BD-rate is n/a")
    codec: str
    kind: str
    bd_rate: float | None = Field(description="Percent bits vs the anchor at equal quality (negative saves bits)")
    bd_quality: float | None = Field(description="Mean quality difference at equal bpp, in the metric's units")
    bpp_min: float
    bpp_max: float
    rate_points: list[float]
    encode_seconds: float = Field(description="Mean encode time per image")
    decode_seconds: float = Field(description="Mean decode time per image")
    device: str
    job_id: int = Field(description="Newest job that contributed results")
    images: int
    note: str = Field(description="Why BD-rate is n/a, or 'anchor'")


class LeaderboardOut(BaseModel):
    image_set_id: int
    metric: str
    anchor: str
    higher_is_better: bool
    method: str
    rows: list[LeaderboardRow]


class LeaderboardSet(BaseModel):
    id: int
    name: str
    images: int
    codecs: list[str]
    metrics: list[str]


def _default_set(session) -> int:
    sets = leaderboard.public_image_sets(session)
    if not sets:
        raise NotFound("no public image set has a succeeded job yet")
    return sets[0]["id"]


@router.get("/leaderboard", response_model=LeaderboardOut)
def get_leaderboard(
    session: SessionDep,
    image_set_id: int | None = Query(None, description="A public image set (default: the newest with a succeeded job)"),
    metric: str = "psnr",
    anchor: str = "jpeg",
) -> dict:
    """Codecs on a public image set ranked by BD-rate against ``anchor`` for ``metric`` (Bjontegaard, PCHIP),
    from the newest result per codec, rate point and image of succeeded jobs; n/a rows last with the reason."""
    return leaderboard.leaderboard(session, image_set_id or _default_set(session), metric, anchor)


@router.get("/leaderboard/image-sets", response_model=list[LeaderboardSet])
def leaderboard_sets(session: SessionDep) -> list[dict]:
    """Public image sets with succeeded jobs (what the leaderboard can show), newest first."""
    return leaderboard.public_image_sets(session)


@router.get("/leaderboard/codecs/{codec}")
def leaderboard_codec(codec: str, session: SessionDep, image_set_id: int | None = None) -> dict:
    """RD points of ``codec`` (and of the other codecs, for comparison) on a public image set for every
    metric it was scored with: ``{"metrics": {metric: {codec: [{rate_point, bpp, value, images}]}}}``."""
    return leaderboard.codec_curves(session, image_set_id or _default_set(session), codec)


@pages_router.get("/leaderboard", response_class=HTMLResponse)
def leaderboard_page(
    request: Request, session: SessionDep, image_set_id: int | None = None, metric: str = "psnr", anchor: str = "jpeg"
):
    sets = leaderboard.public_image_sets(session)
    board, error = None, ""
    if sets:
        chosen = image_set_id or sets[0]["id"]
        try:
            board = leaderboard.leaderboard(session, chosen, metric, anchor)
        except ServiceError as exc:
            error = exc.message
    else:  # the page's empty state says what to do next
        chosen = None
    current = next((s for s in sets if s["id"] == chosen), None)
    return templates.TemplateResponse(
        request,
        "leaderboard.html",
        {
            "sets": sets,
            "current": current,
            "image_set_id": chosen,
            "metric": metric,
            "anchor": anchor,
            "board": board,
            "error": error,
        },
        status_code=200 if board or not sets else 404 if current is None else 422,
    )


@pages_router.get("/leaderboard/codecs/{codec}", response_class=HTMLResponse)
def codec_page(
    codec: str, request: Request, session: SessionDep, image_set_id: int | None = None, anchor: str = "jpeg"
):
    chosen = image_set_id or _default_set(session)
    data = leaderboard.codec_curves(session, chosen, codec)
    name = next((s["name"] for s in leaderboard.public_image_sets(session) if s["id"] == chosen), str(chosen))
    return templates.TemplateResponse(
        request,
        "codec.html",
        {"codec": codec, "image_set_id": chosen, "image_set_name": name, "anchor": anchor, "data": data},
    )
