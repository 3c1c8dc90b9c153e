"""Balance statistics: answer entropy and head share, correct-position counts with a
chi-square test of uniformity, yes/no ratio. Pure functions over plain item dicts."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from typing import Any

MCQ_OPTIONS = 4


def entropy_bits(counts: Counter | dict[str, int]) -> float:
    total = sum(counts.values())
    return -sum(n / total * math.log2(n / total) for n in counts.values() if n) if total else 0.0


def head(counts: Counter | dict[str, int]) -> tuple[str | None, float]:
    """The most frequent answer (ties by name) and its share."""
    total = sum(counts.values())
    if not total:
        return None, 0.0
    name, n = min(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return name, n / total


def _gamma_q(a: float, x: float) -> float:
    """Regularized upper incomplete gamma Q(a, x) (series below a + 1, continued fraction
    above, as in Numerical Recipes): scipy is not a dependency for one p-value."""
    if x <= 0:
        return 1.0
    log_prefix = a * math.log(x) - x - math.lgamma(a)
    if x < a + 1:
        term = total = 1.0 / a
        k = a
        for _ in range(1000):
            k += 1
            term *= x / k
            total += term
            if abs(term) < abs(total) * 1e-15:
                break
        return max(0.0, 1.0 - total * math.exp(log_prefix))
    tiny = 1e-300
    b = x + 1 - a
    c, d = 1 / tiny, 1 / b
    h = d
    for i in range(1, 1000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-15:
            break
    return min(1.0, math.exp(log_prefix) * h)


def chi_square_uniform(counts: list[int]) -> tuple[float, float]:
    """Pearson's statistic against a uniform distribution and its p-value (df = k - 1)."""
    total, k = sum(counts), len(counts)
    if total == 0 or k < 2:
        return 0.0, 1.0
    expected = total / k
    stat = sum((c - expected) ** 2 / expected for c in counts)
    return stat, _gamma_q((k - 1) / 2, stat / 2)


def position_counts(items: list[dict[str, Any]], options: int) -> list[int]:
    counts = [0] * options
    for item in items:
        counts[item["answer_index"]] += 1
    return counts


def group_metrics(items: list[dict[str, Any]], min_items: int) -> dict[str, Any]:
    """Figures for one (aspect, form) group of items."""
    answers = Counter(i["answer_value"] for i in items)
    name, share = head(answers)
    out: dict[str, Any] = {
        "items": len(items),
        "distinct_answers": len(answers),
        "entropy_bits": round(entropy_bits(answers), 6),
        # 1.0 is a uniform spread over the answers that occur.
        "normalized_entropy": round(entropy_bits(answers) / math.log2(len(answers)), 6)
        if len(answers) > 1
        else 0.0,
        "head_answer": name,
        "head_share": round(share, 6),
        "answers": dict(sorted(answers.items(), key=lambda kv: (-kv[1], kv[0]))),
    }
    form = items[0]["form"] if items else None
    if form in ("mcq", "yes_no"):
        k = MCQ_OPTIONS if form == "mcq" else 2
        counts = position_counts(items, k)
        stat, p = chi_square_uniform(counts)
        out["positions"] = counts
        out["position_chi2"] = round(stat, 6)
        out["position_p"] = round(p, 6)
        out["position_tested"] = len(items) >= min_items  # enough items for the test
    if form == "yes_no":
        yes = sum(i["answer"] == "yes" for i in items)
        out["yes"], out["no"] = yes, len(items) - yes
        out["yes_share"] = round(yes / len(items), 6) if items else 0.0
    return out


def balance_metrics(items: list[dict[str, Any]], min_items: int) -> dict[str, dict[str, Any]]:
    """{aspect: {form: figures}} over every item of the build."""
    groups: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for item in items:
        groups[item["aspect"]][item["form"]].append(item)
    return {
        aspect: {form: group_metrics(rows, min_items) for form, rows in sorted(forms.items())}
        for aspect, forms in sorted(groups.items())
    }
