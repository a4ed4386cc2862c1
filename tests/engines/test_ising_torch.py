"""The torch checkerboard Metropolis ("metropolis-torch"), tested with device="cpu".

It is not in ``ALGORITHMS`` (the parametrized tests of the other files), because a torch sweep
of a tiny lattice costs ~0.2 ms of tensor-operation overhead; the same checks run here with
fewer samples: exact L = 8 values at three temperatures and in a field (4σ), the 3×3 χ² over
512 states (with the deterministic h = 0 cycles of the checkerboard order excluded, as for
"metropolis"), plus bit-exact checks of the random stream and of the visiting order against a
pure-Python sequential checkerboard, and the IsingSimulation contract. A CUDA test (skipped
without a GPU) checks that CPU and CUDA give the same lattices bit for bit.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from engines.exact import (
    energy_per_spin,
    magnetization_distribution,
    magnetization_moments,
    specific_heat_per_spin,
    transfer_matrix_energy,
)
from engines.ising import IsingParams, IsingSimulation, summarize, torch_checkerboard
from engines.ising.lattice import random_spins
from engines.ising.rng import seed_state
from tests.engines.test_ising_detailed_balance import (
    _chi2_pvalue,
    _metropolis_frozen_states,
    _state_index,
)

ALGORITHM = "metropolis-torch"
MASK = (1 << 64) - 1


def _splitmix(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def _reference_sweeps(spins, n, beta, J, h, state):
    """Pure-Python sequential checkerboard Metropolis with the documented per-site numbers."""
    s = spins.astype(np.int64)
    L = s.shape[0]
    for _ in range(n):
        for parity in (0, 1):
            key = int(torch_checkerboard.draw_keys(state, 1)[0])
            for r in range(L):
                for c in range((r + parity) & 1, L, 2):
                    nb = s[r - 1, c] + s[(r + 1) % L, c] + s[r, c - 1] + s[r, (c + 1) % L]
                    u = _splitmix((key + (r * L + c + 1) * 0x9E3779B97F4A7C15) & MASK) >> 2
                    p = math.exp(min(0.0, -beta * 2 * s[r, c] * (J * nb + h)))
                    if u < int(math.ldexp(p, 62)):
                        s[r, c] = -s[r, c]
    return s.astype(np.int8)


def test_site_uniforms_are_splitmix64_bit_for_bit():
    keys = np.array([0, 1, 2**63 - 1, 2**64 - 1, 0x0123456789ABCDEF], dtype=np.uint64)
    sites = np.array([0, 1, 2, 1000, 2**20 + 7], dtype=np.int64)
    bases = (torch.as_tensor(sites) + 1) * torch_checkerboard._GAMMA
    got = torch_checkerboard.site_uniforms(torch.as_tensor(keys.view(np.int64))[:, None], bases)
    for a, key in enumerate(keys.tolist()):
        for b, site in enumerate(sites.tolist()):
            z = _splitmix((key + (site + 1) * 0x9E3779B97F4A7C15) & MASK)
            assert int(got[a, b]) == z >> 2


@pytest.mark.parametrize("size", [2, 3, 4, 5, 6, 7, 130])
@pytest.mark.parametrize(("J", "h"), [(1.0, 0.0), (-1.0, 0.3), (0.6, -0.8)])
def test_stages_reproduce_the_sequential_checkerboard_exactly(size, J, h):
    beta, n = 1 / 2.4, 3 if size < 100 else 1
    state = seed_state(size)
    spins = random_spins(size, state)
    expected = _reference_sweeps(spins, n, beta, J, h, state.copy())
    lattice = torch_checkerboard.TorchCheckerboard(spins, "cpu")
    lattice.set_parameters(beta, J, h)
    lattice.sweeps(n, state)
    np.testing.assert_array_equal(spins, expected)  # the tensor shares the numpy memory


def test_neighbour_gather_and_rolls_and_chunking_agree(monkeypatch):
    runs = []
    for gather_max, chunk in ((1 << 14, 1 << 20), (0, 1), (0, 1 << 20), (1 << 14, 1)):
        monkeypatch.setattr(torch_checkerboard, "GATHER_MAX_SPINS", gather_max)
        monkeypatch.setattr(torch_checkerboard, "_RANDOMS_PER_CHUNK", chunk)
        sim = IsingSimulation(IsingParams(12, 2.3, field=0.1, algorithm=ALGORITHM, seed=3))
        sim.sweep(7)
        runs.append((sim.spins_copy(), sim.state_dict()["rng_state"]))
    for spins, rng in runs[1:]:
        np.testing.assert_array_equal(spins, runs[0][0])
        np.testing.assert_array_equal(rng, runs[0][1])


# ------------------------------------------------------------------------- exactness
L8, N8 = 8, 64


def _summary(T: float, seed: int, field: float = 0.0, n_samples: int = 20_000) -> dict:
    sim = IsingSimulation(IsingParams(L8, T, field=field, algorithm=ALGORITHM, seed=seed))
    sim.thermalize(1000)
    energies, magnetizations = np.empty(n_samples), np.empty(n_samples)
    for k in range(n_samples):
        sim.sweep(1)
        energies[k], magnetizations[k] = sim.energy_per_spin(), sim.magnetization_per_spin()
    return summarize(energies, magnetizations, T, N8)


def _assert_within(result: dict, exact: dict, label: str) -> None:
    for key, value in exact.items():
        z = (result[key].value - value) / result[key].error
        assert abs(z) < 4.0, f"{label} {key}: {result[key].value} vs {value} (z = {z:.2f})"


@pytest.mark.slow
@pytest.mark.parametrize("T", [2.0, 2.269185, 3.0])
def test_zero_field_matches_exact(T):
    result = _summary(T, seed=int(100 * T))
    moments = magnetization_moments(L8, T)
    exact = {
        "e": energy_per_spin(L8, T),
        "c": specific_heat_per_spin(L8, T),
        "abs_m": moments["abs_m"],
        "m2": moments["m2"],
        "binder": moments["binder"],
        "chi": moments["chi"],
    }
    _assert_within(result, exact, f"T={T}")


@pytest.mark.slow
def test_in_a_field_matches_exact():
    T, h = 2.5, 0.1
    result = _summary(T, seed=77, field=h)
    M, P = magnetization_distribution(L8, T, h=h)
    energy = transfer_matrix_energy(L8, T, h=h)
    exact = {"e": energy["e"], "c": energy["c"], "m": P @ M / N8, "m2": P @ M**2 / N8**2}
    _assert_within(result, exact, f"T={T} h={h}")


@pytest.mark.slow
@pytest.mark.parametrize(("J", "h"), [(1.0, 0.0), (1.0, 0.3), (-1.0, 0.3)])
def test_3x3_state_frequencies_follow_boltzmann(J, h):
    from engines.exact import boltzmann_probabilities

    L, T, n_samples, thinning = 3, 3.0, 8_000, 5
    sim = IsingSimulation(IsingParams(L, T, coupling=J, field=h, algorithm=ALGORITHM, seed=5))
    sim.thermalize(100)
    counts = np.zeros(2 ** (L * L), dtype=np.int64)
    for _ in range(n_samples):
        sim.sweep(thinning)
        counts[_state_index(sim.spins)] += 1
    p = boltzmann_probabilities(L, T, J, h).copy()
    frozen = _metropolis_frozen_states(J, h)  # the same visiting order as "metropolis"
    assert counts[frozen].sum() == 0
    p[frozen] = 0.0
    p /= p.sum()
    assert _chi2_pvalue(counts, p) > 1e-3


# ----------------------------------------------------------------------- simulation contract
def test_simulation_contract_on_cpu():
    params = IsingParams(10, 2.27, field=0.05, algorithm=ALGORITHM, seed=9)
    sim = IsingSimulation(params)
    assert sim.spins.dtype == np.int8 and sim.spins.shape == (10, 10)
    sim.thermalize(20)
    sim.sweep(5)
    assert sim.sweeps == 25
    state = sim.state_dict()
    assert state["device"] == "cpu" and state["algorithm"] == ALGORITHM
    resumed = IsingSimulation.from_state(state)
    for _ in range(5):
        sim.sweep()
        resumed.sweep()
        np.testing.assert_array_equal(sim.spins, resumed.spins)
    np.testing.assert_array_equal(sim.state_dict()["rng_state"], resumed.state_dict()["rng_state"])
    other = IsingSimulation(IsingParams(10, 2.27, field=0.05, algorithm=ALGORITHM, seed=10))
    other.sweep(30)
    assert not np.array_equal(other.spins, sim.spins)
    # On the CPU the numpy lattice is the tensor's storage: writes are live both ways.
    sim.spins[:] = 1
    assert sim.magnetization_per_spin() == 1.0
    sim.set_spin(0, 0, -1)
    assert sim.energy_per_spin() == pytest.approx((-(200 - 8) - 0.05 * 98) / 100)
    words = sim.packed_spins()
    assert words.dtype == np.uint64 and words.shape == (10, 2)


def test_device_validation():
    with pytest.raises(ValueError, match="Unknown device"):
        IsingParams(8, 2.0, algorithm=ALGORITHM, device="tpu").validate()
    with pytest.raises(ValueError, match="Unknown device"):
        IsingParams(8, 2.0, algorithm=ALGORITHM, device="not a device").validate()
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            IsingSimulation(IsingParams(8, 2.0, algorithm=ALGORITHM, device="cuda"))
    with pytest.raises(ValueError, match="CPU only"):
        IsingParams(8, 2.0, algorithm="metropolis", device="cuda").validate()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("size", [7, 64])
def test_cuda_matches_cpu_bit_for_bit_and_states_cross_devices(size):
    runs = {}
    for device in ("cpu", "cuda"):
        sim = IsingSimulation(
            IsingParams(size, 2.3, field=0.1, algorithm=ALGORITHM, seed=4, device=device)
        )
        sim.sweep(9)
        runs[device] = sim
    np.testing.assert_array_equal(runs["cpu"].spins_copy(), runs["cuda"].spins_copy())
    assert runs["cpu"].energy_per_spin() == runs["cuda"].energy_per_spin()
    state = runs["cuda"].state_dict()
    state["device"] = "cpu"
    moved = IsingSimulation.from_state(state)
    moved.sweep(3)
    runs["cuda"].sweep(3)
    np.testing.assert_array_equal(moved.spins, runs["cuda"].spins)
