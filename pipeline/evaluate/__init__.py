"""Scoring model predictions on MSG-MCQ: answer extraction (`extract`), metrics with
CircularEval, POPE and the misgrounding breakdown (`metrics`), tables (`table`) and the
baselines (`baselines`, `blind`)."""

from pipeline.evaluate.blind import blind_predictions
from pipeline.evaluate.extract import Judgement, judge
from pipeline.evaluate.score import evaluate, load_items, load_predictions, score

__all__ = [
    "Judgement",
    "blind_predictions",
    "evaluate",
    "judge",
    "load_items",
    "load_predictions",
    "score",
]
