"""The largest-remainder rounding shared by the MSG-MCQ and MSG-Conv releases."""

import random
from collections import Counter

import pytest

from pipeline.conv.release import quotas
from pipeline.largest_remainder import largest_remainder
from pipeline.mcq.release_plan import integerize, step_of


def hamilton(ideal: dict[str, float], total: int) -> dict[str, int]:
    """The textbook method, written out independently: floors, then one more to each of
    the largest remainders (ties by name)."""
    quota = {k: int(v) for k, v in ideal.items()}
    by_remainder = sorted(ideal, key=lambda k: (-(ideal[k] - quota[k]), k))
    for k in by_remainder[: total - sum(quota.values())]:
        quota[k] += 1
    return quota


@pytest.mark.parametrize("seed", range(200))
def test_unit_steps_match_the_textbook_method(seed: int) -> None:
    rng = random.Random(seed)
    pool = Counter({f"kind{i}": rng.randint(1, 50) for i in range(rng.randint(1, 8))})
    size = rng.randint(1, sum(pool.values()))
    ideal = {k: size * n / sum(pool.values()) for k, n in pool.items()}
    assert quotas(pool, size) == hamilton(ideal, size)
    assert sum(quotas(pool, size).values()) == size


def test_ties_go_by_name() -> None:
    quota, left = largest_remainder({"b": 0.5, "a": 0.5, "c": 0.5}, 2)
    assert (quota, left) == ({"b": 1, "a": 1, "c": 0}, 0)


def test_paired_cells_grow_in_twos_and_an_odd_remainder_is_returned() -> None:
    ideal = {("color", "yes_no"): 3.0}
    quota, left = largest_remainder(ideal, 3, step=step_of)
    assert quota == {("color", "yes_no"): 2} and left == 1


@pytest.mark.parametrize("seed", range(50))
def test_mcq_quotas_sum_to_the_size_with_even_yes_no(seed: int) -> None:
    rng = random.Random(seed)
    forms = ["multiple_choice", "yes_no", "fill_blank"]
    ideal = {
        (aspect, form, "coco"): rng.uniform(0.0, 40.0)
        for aspect in ("color", "number", "spatial")
        for form in forms
    }
    total = 2 * round(sum(ideal.values()) / 2)
    quota = integerize(ideal, total)
    assert sum(quota.values()) == total
    assert all(n % 2 == 0 for c, n in quota.items() if c[1] == "yes_no")
    assert all(abs(quota[c] - ideal[c]) < 3 for c in ideal)
