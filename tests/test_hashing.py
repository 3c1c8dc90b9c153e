"""hash_prefix must give exactly stable_hash64's values: item ids and option order
depend on them."""

import pytest

from pipeline.hashing import hash_prefix, seeded_rng, stable_hash64

CASES = [
    ((0, "coco-139"), ("color|obj-1|red", "mcq", "")),
    (("vg-2345",), ("number|people|3", "yes_no", "no")),
    (("balance",), ("scene|family|aspect|form|name|1,2|value||",)),
    ((7, "vg-1", None), ("ñandú é", 3.5)),
]


@pytest.mark.parametrize(("prefix", "rest"), CASES)
def test_hash_prefix_equals_stable_hash64(prefix: tuple, rest: tuple) -> None:
    assert hash_prefix(*prefix)(*rest) == stable_hash64(*prefix, *rest)


def test_hash_prefix_is_reusable() -> None:
    hashed = hash_prefix(0, "coco-139")
    first = [hashed("k", form) for form in ("mcq", "yes_no", "mcq")]
    assert first[0] == first[2] != first[1]


def test_hash_prefix_seeds_like_seeded_rng() -> None:
    import random

    seed = hash_prefix(0, "coco-139")("color|obj-1|red", "mcq", "")
    assert (
        random.Random(seed).random()
        == seeded_rng(0, "coco-139", "color|obj-1|red", "mcq", "").random()
    )


def test_hash_prefix_needs_a_further_part() -> None:
    with pytest.raises(ValueError):
        hash_prefix("a")()
