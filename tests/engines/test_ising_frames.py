"""What a measurement and a viewer read from a running simulation (engines.ising.frames): the
same numbers and configurations as the simulation's own accessors, without exposing the
packed state's int8 mirror."""

from __future__ import annotations

import numpy as np
import pytest

from engines.ising import IsingParams, IsingSimulation
from engines.ising.frames import (
    block_image,
    configuration,
    energy_and_magnetization,
    packed_bonds_and_magnetization,
    spins_block_image,
)
from engines.ising.multispin import choose_width, pack_spins, packed_bond_sum_and_magnetization

CASES = [
    (8, "metropolis-msc", 0.0),
    (7, "heatbath-msc", 0.3),
    (12, "metropolis", 0.0),
    (9, "wolff", 0.0),
    (10, "metropolis-msc", -0.2),
    (130, "metropolis-msc", 0.0),
]


@pytest.mark.parametrize("size, algorithm, field", CASES)
def test_measurements_are_the_simulations_own_and_leave_the_mirror_alone(size, algorithm, field):
    sim = IsingSimulation(IsingParams(size, 2.3, field=field, algorithm=algorithm, seed=4))
    reference = IsingSimulation(IsingParams(size, 2.3, field=field, algorithm=algorithm, seed=4))
    buffer = None
    for _ in range(5):
        sim.sweep(3)
        reference.sweep(3)
        e, m = energy_and_magnetization(sim)
        assert (e, m) == (reference.energy_per_spin(), reference.magnetization_per_spin())
        buffer = configuration(sim, buffer)
        np.testing.assert_array_equal(buffer, reference.spins_copy())
    if algorithm.endswith("-msc"):
        assert not sim._mirror_exposed  # the sweeps never had to pack and unpack the mirror


@pytest.mark.parametrize("size", [2, 3, 5, 8, 9, 10, 33, 64, 130])
def test_popcount_bonds_are_the_multispin_modules(size):
    rng = np.random.default_rng(size)
    width = choose_width(size)
    for _ in range(4):
        spins = np.where(rng.random((size, size)) < rng.random(), 1, -1).astype(np.int8)
        words = pack_spins(spins, width)
        got = tuple(int(v) for v in packed_bonds_and_magnetization(words, width))
        assert got == tuple(int(v) for v in packed_bond_sum_and_magnetization(words, width))


def _reference_image(spins: np.ndarray, block: int) -> np.ndarray:
    side = -(-spins.shape[0] // block)
    out = np.empty((side, side), dtype=np.uint8)
    for i in range(side):
        for j in range(side):
            share = (spins[i * block : (i + 1) * block, j * block : (j + 1) * block] > 0).mean()
            out[i, j] = int(np.floor(255 * share + 0.5))
    return out


@pytest.mark.parametrize("size, algorithm, field", CASES)
def test_block_images_from_packed_words_equal_those_of_the_spins(size, algorithm, field):
    """The viewer's image read from the packed words is the block average of the very
    configuration the recorder gets (edge blocks of an L the block does not divide too)."""
    sim = IsingSimulation(IsingParams(size, 2.3, field=field, algorithm=algorithm, seed=2))
    sim.sweep(4)
    spins = sim.spins_copy()
    for block in (1, 2, 3, 4, 7):
        expected = _reference_image(spins, block)
        np.testing.assert_array_equal(block_image(sim, block), expected)
        np.testing.assert_array_equal(spins_block_image(spins, block), expected)
    np.testing.assert_array_equal(block_image(sim, 1), np.where(spins > 0, 255, 0))


def test_bad_blocks_and_lattices_are_refused():
    sim = IsingSimulation(IsingParams(8, 2.3, algorithm="metropolis-msc", seed=2))
    for block in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="block"):
            block_image(sim, block)
    with pytest.raises(ValueError, match="square"):
        spins_block_image(np.ones((3, 4), dtype=np.int8), 2)
