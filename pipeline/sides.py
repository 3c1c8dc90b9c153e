"""Which side an image is on: evaluation (MSG-MCQ) or tuning (MSG-Conv). Decided by a hash
of the scene id, which a VG image shares with its COCO twin, so twins never straddle."""

from __future__ import annotations

from pipeline.hashing import unit_interval

EVALUATION, TUNING = "evaluation", "tuning"


def image_side(scene_id: str, tuning_fraction: float) -> str:
    return TUNING if unit_interval("side", scene_id) < tuning_fraction else EVALUATION
