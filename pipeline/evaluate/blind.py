"""The blind (text-only) baseline: how much of MSG-MCQ can be answered without the image.

A model is shown an item's question (regions masked) and its options, nothing else. Each
item is first projected to a `BlindView` holding just that; the attacks receive views only
(and, for training items, the answer), so they cannot read `referent_name` (the answer of
an entity item), `answer_value`, `template_id`, `distractor_sources`, `pope_setting`, ...

Two attacks, trained k-fold over images (fold = stable hash of `scene_id`, so an image's
rotations and yes/no twins are never split between training and held-out):

- `answer_prior`: the most frequent training answer among the offered options for the same
  masked question; backing off to a template key derived from the text, then to the
  (aspect, form) group. Open forms (no options): the most frequent answer value.
- `option_prior`: how often an option's text is right when it is offered, per template key
  (smoothed towards the group's rate, itself smoothed towards chance); the offered option
  with the highest rate wins. Closed forms only.

Ties are broken by a stable hash of (seed, question, candidate), never by position, so the
rotations of a circular item pick the same option text."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any

from pipeline.evaluate.extract import NUMBERS, judge
from pipeline.facts.referents import mask_regions
from pipeline.hashing import stable_hash64

OPEN_FORMS = frozenset({"fill_blank", "correction"})
ATTACKS = ("answer_prior", "option_prior")

# "[0.123, 0.456, 0.789, 0.999]": the region a question points at, meaningless without it.
_WORD = re.compile(r"\[region\]|[^\W_]+")
# A word in at least this share of a group's questions belongs to its template's wording.
FRAME_SHARE = 0.1
# Weight, in pseudo-observations, of the prior an option rate is smoothed towards.
PRIOR_WEIGHT = 2.0


@dataclass(frozen=True)
class BlindView:
    """All a text-only model is shown of an item."""

    question: str  # region coordinates masked
    options: tuple[str, ...]  # empty for open forms


@dataclass(frozen=True)
class Example:
    """A view with what the attacks may use around it: `group` (aspect, form) is a back-off
    and reporting key (the template family is visible from the text anyway); `answer` is
    read only when the example is in a training fold."""

    view: BlindView
    group: tuple[str, str]
    fold: int
    answer: str


def view_of(item: dict[str, Any]) -> BlindView:
    return BlindView(mask_regions(item["question"]), tuple(item["options"]))


def answer_of(item: dict[str, Any]) -> str:
    """The label the attacks learn: the option text, or the value for open forms."""
    return item["answer_value"] if item["form"] in OPEN_FORMS else item["answer"]


def fold_of(scene_id: str, folds: int, seed: int) -> int:
    return stable_hash64(seed, "blind-fold", scene_id) % folds


def example_of(item: dict[str, Any], folds: int, seed: int) -> Example:
    group = (item["aspect"], item["form"])
    return Example(view_of(item), group, fold_of(item["scene_id"], folds, seed), answer_of(item))


def words(text: str) -> list[str]:
    """Lower-case words, number words as digits ("five" -> "5", as the options write them)."""
    return [NUMBERS.get(w, w) for w in _WORD.findall(text.lower())]


# -- keys: what the attacks count answers by, most specific first -------------------------
@dataclass(frozen=True)
class Vocabulary:
    """Learnt from visible text only: per group, its template's wording (frequent words);
    per aspect, the words of the options its multiple-choice items offer."""

    frame: dict[tuple[str, str], frozenset[str]]
    values: dict[str, frozenset[str]]

    @classmethod
    def of(cls, examples: Iterable[Example]) -> Vocabulary:
        questions: dict[tuple[str, str], int] = Counter()
        seen_in: dict[tuple[str, str], Counter] = defaultdict(Counter)
        values: dict[str, set[str]] = defaultdict(set)
        for e in examples:
            questions[e.group] += 1
            seen_in[e.group].update(set(words(e.view.question)))
            if len(e.view.options) > 2:  # yes/no offers no values of the aspect
                values[e.group[0]].update(w for o in e.view.options for w in words(o))
        frame = {
            group: frozenset(w for w, n in seen_in[group].items() if n >= FRAME_SHARE * total)
            for group, total in questions.items()
        }
        return cls(frame, {aspect: frozenset(v) for aspect, v in values.items()})

    def template(self, view: BlindView, group: tuple[str, str]) -> tuple[str, ...]:
        """The question with its template wording and aspect values kept, any other word
        (mostly object names) as "_": "Are there five toilets?" -> are there 5 _."""
        keep = self.frame.get(group, frozenset()) | self.values.get(group[0], frozenset())
        out: list[str] = []
        for w in words(view.question):
            w = w if w in keep else "_"
            if not (w == "_" and out and out[-1] == "_"):
                out.append(w)
        return tuple(out)


def text_key(view: BlindView, group: tuple[str, str]) -> Hashable:
    return ("text", group, " ".join(view.question.lower().split()))


def template_key(view: BlindView, group: tuple[str, str], vocab: Vocabulary) -> Hashable:
    return ("template", group, vocab.template(view, group))


def group_key(group: tuple[str, str]) -> Hashable:
    return ("group", group)


def _pick(
    candidates: Iterable[str], score: Callable[[str], float], view: BlindView, seed: int
) -> str | None:
    """The best-scoring candidate (None if none scores above 0); ties by a stable hash."""
    scored = [(score(c), c) for c in candidates]
    best = max((s for s, _ in scored), default=0.0)
    if best <= 0:
        return None
    tied = [c for s, c in scored if s == best]
    return min(tied, key=lambda c: stable_hash64(seed, "blind-tie", view.question, c))


# -- the attacks -------------------------------------------------------------------------
class AnswerPrior:
    """Attack (a): the most frequent training answer for the same masked question."""

    def __init__(self, training: list[Example], vocab: Vocabulary, seed: int) -> None:
        self.vocab, self.seed = vocab, seed
        self.counts: dict[Hashable, Counter] = defaultdict(Counter)
        for e in training:
            for key in self.keys(e.view, e.group):
                self.counts[key][e.answer] += 1

    def keys(self, view: BlindView, group: tuple[str, str]) -> list[Hashable]:
        return [text_key(view, group), template_key(view, group, self.vocab), group_key(group)]

    def predict(self, view: BlindView, group: tuple[str, str]) -> str | None:
        for key in self.keys(view, group):
            counts = self.counts.get(key, Counter())
            candidates = view.options or sorted(counts)
            choice = _pick(candidates, counts.__getitem__, view, self.seed)
            if choice is not None:
                return choice
        return None


class OptionPrior:
    """Attack (b): the offered option whose text is most often right when offered."""

    def __init__(self, training: list[Example], vocab: Vocabulary, seed: int) -> None:
        self.vocab, self.seed = vocab, seed
        self.offered: dict[Hashable, Counter] = defaultdict(Counter)
        self.right: dict[Hashable, Counter] = defaultdict(Counter)
        for e in training:
            for key in (template_key(e.view, e.group, vocab), group_key(e.group)):
                self.offered[key].update(e.view.options)
                self.right[key][e.answer] += 1

    def rate(self, key: Hashable, option: str, prior: float) -> float:
        offered = self.offered.get(key, Counter())[option]
        right = self.right.get(key, Counter())[option]
        return (right + PRIOR_WEIGHT * prior) / (offered + PRIOR_WEIGHT)

    def predict(self, view: BlindView, group: tuple[str, str]) -> str | None:
        if not view.options:
            return None
        template, chance = template_key(view, group, self.vocab), 1.0 / len(view.options)

        def score(option: str) -> float:
            return self.rate(template, option, self.rate(group_key(group), option, chance))

        return _pick(view.options, score, view, self.seed)


MODELS = {"answer_prior": AnswerPrior, "option_prior": OptionPrior}


def _fallback(view: BlindView, seed: int) -> str:
    """Nothing learnt at any level: a seeded guess among the options ("" for open forms)."""
    return _pick(view.options, lambda _: 1.0, view, seed) or ""


# -- k-fold over images --------------------------------------------------------------------
def blind_attacks(
    items: list[dict[str, Any]], folds: int = 5, seed: int = 0
) -> dict[str, dict[str, str | None]]:
    """attack name -> {item id -> its prediction, trained on the other folds' images}.
    None where the attack does not apply (option prior on open forms)."""
    if folds < 2:
        raise ValueError("the blind baseline needs at least 2 folds")
    examples = {item["id"]: example_of(item, folds, seed) for item in items}
    # Visible text only (a model is shown the held-out questions too): no label is read.
    vocab = Vocabulary.of(examples.values())
    out: dict[str, dict[str, str | None]] = {name: {} for name in ATTACKS}
    for fold in range(folds):
        training = [e for e in examples.values() if e.fold != fold]
        models = {name: MODELS[name](training, vocab, seed) for name in ATTACKS}
        for item_id, e in examples.items():
            if e.fold != fold:
                continue
            for name, model in models.items():
                guess = model.predict(e.view, e.group)
                if guess is None and e.view.options:
                    guess = _fallback(e.view, seed)
                out[name][item_id] = guess
    return out


def attack_correct(item: dict[str, Any], prediction: str | None) -> bool | None:
    """Scored as `msg evaluate` scores it (`extract.judge`): an option text must be the
    answer; an open value must be the answer value (for corrections, without the false
    one). None where the attack made no prediction for the item's form."""
    if prediction is None:
        return None
    return bool(prediction) and judge(item, prediction).correct


def better_attack(rows: list[dict[str, bool | None]]) -> str:
    """The attack right on the most of these items (the first in ATTACKS on a tie)."""
    return max(ATTACKS, key=lambda name: (sum(bool(r[name]) for r in rows), -ATTACKS.index(name)))


def blind_predictions(items: list[dict[str, Any]], folds: int = 5, seed: int = 0) -> dict[str, str]:
    """item id -> the blind prediction: in each (aspect, form) group, the prediction of the
    attack that scores higher there (so scoring this file reproduces the audit's leakage)."""
    attacks = blind_attacks(items, folds, seed)
    rows: dict[tuple[str, str], list[dict[str, bool | None]]] = defaultdict(list)
    for item in items:
        group = (item["aspect"], item["form"])
        rows[group].append({n: attack_correct(item, attacks[n][item["id"]]) for n in ATTACKS})
    chosen = {group: better_attack(r) for group, r in rows.items()}
    return {
        item["id"]: attacks[chosen[item["aspect"], item["form"]]][item["id"]] or ""
        for item in items
    }
