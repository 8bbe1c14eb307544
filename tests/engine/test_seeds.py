"""derive_seed: stable, in range, distinct across stages and items."""

from engine.seeds import MAX_SEED, derive_seed


def test_same_inputs_same_seed_and_in_range() -> None:
    assert derive_seed(7, "generate", 3, 0) == derive_seed(7, "generate", 3, 0)
    seeds = {
        derive_seed(7, stage, item) for stage in ("label", "adapt", "score") for item in range(200)
    }
    assert len(seeds) == 600
    assert all(0 <= s <= MAX_SEED for s in seeds)


def test_stage_and_parts_change_the_seed() -> None:
    assert derive_seed(7, "label", 1) != derive_seed(7, "score", 1)
    assert derive_seed(7, "generate", 1, 2) != derive_seed(7, "generate", 2, 1)
    assert derive_seed(7, "label", 1) != derive_seed(8, "label", 1)
