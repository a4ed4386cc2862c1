"""Exact results cross-checked against each other: Kaufman's formula, brute-force enumeration,
the row transfer matrix and Onsager's infinite-lattice results are four independent
computations, so agreement to rounding error is a real test of each."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from engines import exact
from engines.exact import enumeration, kaufman, onsager, transfer_matrix

TC = 2.0 / np.log(1.0 + np.sqrt(2.0))
# Both sides of T_c, close to it, and far from it on both sides.
TEMPERATURES = np.array([0.4, 1.0, 1.8, 2.2, TC - 1e-3, TC, TC + 1e-3, 2.4, 3.0, 6.0, 50.0])


# --- Kaufman against enumeration and the transfer matrix ------------------------------------


@pytest.mark.parametrize("L", [2, 3, 4, 5])
def test_kaufman_log_z_equals_enumeration(L):
    np.testing.assert_allclose(
        exact.log_partition_function(L, TEMPERATURES),
        exact.enumerate_log_z(L, TEMPERATURES),
        rtol=0,
        atol=1e-10,
    )


@pytest.mark.parametrize("L", [2, 3, 4, 5])
def test_kaufman_energy_and_specific_heat_equal_enumeration(L):
    observed = exact.enumerate_observables(L, TEMPERATURES)
    np.testing.assert_allclose(exact.energy_per_spin(L, TEMPERATURES), observed["e"], atol=1e-10)
    np.testing.assert_allclose(
        exact.specific_heat_per_spin(L, TEMPERATURES), observed["c"], atol=1e-10
    )


@pytest.mark.parametrize("L", [6, 8])
def test_kaufman_equals_transfer_matrix(L):
    T = np.array([1.0, 2.0, TC, 2.5, 4.0])
    tm = exact.transfer_matrix_energy(L, T)
    np.testing.assert_allclose(exact.energy_per_spin(L, T), tm["e"], atol=1e-9)
    np.testing.assert_allclose(exact.specific_heat_per_spin(L, T), tm["c"], atol=1e-9)
    np.testing.assert_allclose(exact.log_partition_function(L, T), tm["log_z"], atol=1e-9)


# Central differences of order 8 for the first and second derivative.
_D1 = np.array([1 / 280, -4 / 105, 1 / 5, -4 / 5, 0.0, 4 / 5, -1 / 5, 4 / 105, -1 / 280])
_D2 = np.array([-1 / 560, 8 / 315, -1 / 5, 8 / 5, -205 / 72, 8 / 5, -1 / 5, 8 / 315, -1 / 560])


@pytest.mark.parametrize("L", [16, 64])
@pytest.mark.parametrize("T", [1.5, 2.25, TC, 2.3, 3.5])
def test_kaufman_derivatives_equal_finite_differences(L, T):
    """Analytic e and c against 8th-order differences of ln Z in beta (error ~ (L dbeta)^8)."""
    beta, step = 1.0 / T, 2e-4
    betas = beta + step * np.arange(-4, 5)
    log_z = exact.log_partition_function(L, 1.0 / betas)
    N = L * L
    e_fd = -(_D1 @ log_z) / step / N
    c_fd = beta**2 * (_D2 @ log_z) / step**2 / N
    assert exact.energy_per_spin(L, T) == pytest.approx(e_fd, abs=1e-8)
    assert exact.specific_heat_per_spin(L, T) == pytest.approx(c_fd, abs=1e-6)


def test_two_by_two_torus_counts_every_bond_twice():
    """On the 2 x 2 torus the 2N = 8 bonds join each neighbour pair twice: E(all up) = -8J."""
    energies = exact.state_energies(2, J=1.0)
    assert energies[0b1111] == -8.0 and energies[0b0000] == -8.0
    assert energies[0b1001] == 8.0 and energies[0b0110] == 8.0  # the two checkerboards
    assert exact.log_partition_function(2, 1.3) == pytest.approx(
        exact.enumerate_log_z(2, 1.3), abs=1e-13
    )


# --- stability and the thermodynamic limit ---------------------------------------------------


def test_kaufman_stable_on_large_lattice():
    T = np.sort(np.concatenate([np.linspace(0.5, 5.0, 40), [TC - 1e-12, TC, TC + 1e-12]]))
    for L in (1024, 1023):
        log_z = exact.log_partition_function(L, T)
        e = exact.energy_per_spin(L, T)
        c = exact.specific_heat_per_spin(L, T)
        assert np.all(np.isfinite(log_z)) and np.all(np.isfinite(e)) and np.all(np.isfinite(c))
        assert np.all(c > -1e-12)
        assert np.all(np.diff(e) > 0)  # e increases with T: no jumps, no noise
        # Smooth through T_c: the three points within 1e-12 of T_c agree to ~slope * 1e-12.
        near = np.abs(T - TC) <= 1e-12
        assert np.ptp(e[near]) < 1e-10 and np.ptp(c[near]) < 1e-8
        assert np.ptp(log_z[near] / L**2) < 1e-10
    wide = np.geomspace(0.05, 100.0, 25)
    for f in (exact.log_partition_function, exact.energy_per_spin, exact.specific_heat_per_spin):
        assert np.all(np.isfinite(f(1024, wide)))
    assert exact.energy_per_spin(1024, 0.05) == pytest.approx(-2.0, abs=1e-14)
    assert exact.specific_heat_per_spin(1024, 100.0) == pytest.approx(2e-4, rel=1e-3)


@pytest.mark.parametrize("T", [1.8, 3.0])
def test_finite_lattice_converges_exponentially_to_onsager(T):
    """Away from T_c the finite-size error of e, c and ln Z/N falls like exp(-L/xi).

    Below T_c the torus has both ordered phases, so ln Z/N tends to Onsager + ln(2)/N.
    """
    sizes = [8, 16, 24, 32]
    shift = np.log(2.0) if T < TC else 0.0
    errors = {
        "e": [abs(exact.energy_per_spin(L, T) - exact.energy_per_spin_infinite(T)) for L in sizes],
        "c": [
            abs(exact.specific_heat_per_spin(L, T) - exact.specific_heat_infinite(T)) for L in sizes
        ],
        "f": [
            abs(
                (exact.log_partition_function(L, T) - shift) / L**2
                - exact.log_partition_function_infinite(T)
            )
            for L in sizes
        ],
    }
    for err in errors.values():
        ratios = np.array(err[1:]) / np.array(err[:-1])
        assert np.all(ratios < 0.2)
        # Constant ratio per step of 8 (exponential), not per doubling (a power law).
        assert ratios[2] / ratios[1] == pytest.approx(1.0, abs=0.5)
    assert errors["e"][-1] < 1e-6


def test_specific_heat_peak_grows_like_log_L():
    """Ferdinand-Fisher: c_max(L) = (8 K_c^2 / pi) ln L + const + O(1/L)."""
    amplitude = 8.0 * (0.5 * np.log(1.0 + np.sqrt(2.0))) ** 2 / np.pi
    peaks, places = [], []
    for L in (64, 128, 256, 512):
        res = minimize_scalar(
            lambda t, L=L: -exact.specific_heat_per_spin(L, t),
            bounds=(2.25, 2.35),
            method="bounded",
            options={"xatol": 1e-7},
        )
        peaks.append(-res.fun)
        places.append(res.x)
    increments = np.diff(peaks) / np.log(2.0)
    assert np.all(np.diff(increments) < 0)  # O(1/L) corrections shrink
    assert increments[-1] == pytest.approx(amplitude, rel=5e-3)
    assert np.all(np.diff(places) < 0) and places[-1] - TC < 3e-3  # shift ~ 1/L


# --- Onsager ---------------------------------------------------------------------------------


def test_onsager_critical_values():
    assert exact.critical_temperature() == pytest.approx(2.269185314213022, abs=1e-14)
    assert exact.critical_temperature(J=0.5) == pytest.approx(0.5 * TC)
    assert exact.energy_per_spin_infinite(TC) == pytest.approx(-np.sqrt(2.0), abs=1e-14)
    assert exact.specific_heat_infinite(TC) == np.inf
    assert exact.spontaneous_magnetization(TC) == 0.0
    # ln Z/N at T_c: ln(sqrt 2) + 2G/pi (G Catalan's constant).
    catalan = 0.915965594177219015
    assert exact.log_partition_function_infinite(TC) == pytest.approx(
        0.5 * np.log(2.0) + 2.0 * catalan / np.pi, abs=1e-12
    )


def test_onsager_near_critical_never_nan():
    """Within a few ulps of T_c the sign of T - T_c is unknown in floating point: c is inf there
    (never nan, whatever the rounding of sinh 2K), finite and large a little further out."""
    T = TC + np.arange(-60, 61) * np.spacing(TC)
    c = exact.specific_heat_infinite(T)
    e = exact.energy_per_spin_infinite(T)
    assert not np.any(np.isnan(c)) and not np.any(np.isnan(e))
    near = np.abs(T - TC) <= 2 * np.spacing(TC)
    assert np.all(np.isinf(c[near])) and np.all(np.isfinite(c[~near]))
    assert np.all(c[~near] > 15.0)  # the logarithmic divergence: ~ -(8/pi) K_c^2 ln|t|
    assert e == pytest.approx(np.full_like(T, -np.sqrt(2.0)), abs=1e-12)


def test_kaufman_below_its_range_is_the_ground_state():
    """Beyond J/T = 300 the torus is in its two ground states to double precision; the values
    join the formula's continuously at the boundary."""
    for L in (2, 4, 16):
        N = L * L
        cold = np.array([1 / 300.5, 1e-3, 1e-9])
        assert kaufman.energy_per_spin(L, cold) == pytest.approx(np.full(3, -2.0), abs=1e-15)
        assert kaufman.specific_heat_per_spin(L, cold) == pytest.approx(np.zeros(3), abs=1e-15)
        assert kaufman.log_partition_function(L, cold) == pytest.approx(
            2 * N / cold + np.log(2.0), rel=1e-15
        )
        edge = 1 / 299.5
        assert kaufman.energy_per_spin(L, edge) == pytest.approx(-2.0, abs=1e-12)
        assert kaufman.log_partition_function(L, edge) == pytest.approx(
            2 * N / edge + np.log(2.0), rel=1e-14
        )
        mixed = kaufman.energy_per_spin(L, np.array([1e-4, 2.0]))
        assert mixed[0] == -2.0 and mixed[1] == pytest.approx(kaufman.energy_per_spin(L, 2.0))


def test_onsager_specific_heat_is_derivative_of_energy():
    T = np.array([0.7, 1.5, 2.0, 2.2, 2.26, 2.28, 2.4, 3.0, 8.0])
    step = 1e-4
    e = exact.energy_per_spin_infinite
    numeric = (8 * (e(T + step) - e(T - step)) - (e(T + 2 * step) - e(T - 2 * step))) / (12 * step)
    np.testing.assert_allclose(exact.specific_heat_infinite(T), numeric, rtol=1e-6)
    # The log divergence: c ~ -(8 K_c^2/pi) ln|1 - T/T_c| on both sides.
    amplitude = 8.0 * (0.5 * np.log(1.0 + np.sqrt(2.0))) ** 2 / np.pi
    for side in (-1, 1):
        t1, t2 = TC * (1 + side * 1e-8), TC * (1 + side * 1e-10)
        slope = exact.specific_heat_infinite(t2) - exact.specific_heat_infinite(t1)
        assert slope / np.log(100.0) == pytest.approx(amplitude, rel=1e-4)


def test_onsager_energy_and_free_energy_limits_and_consistency():
    assert exact.energy_per_spin_infinite(0.05) == pytest.approx(-2.0, abs=1e-15)
    assert exact.energy_per_spin_infinite(1e4) == pytest.approx(-2e-4, rel=1e-6)  # -2 tanh K
    assert exact.log_partition_function_infinite(1e6) == pytest.approx(np.log(2.0), abs=1e-11)
    # e = -d(ln Z/N)/d beta.
    T = np.array([1.2, 2.0, 2.6, 4.0])
    db = 1e-5
    beta = 1.0 / T
    f_plus = exact.log_partition_function_infinite(1.0 / (beta + db))
    f_minus = exact.log_partition_function_infinite(1.0 / (beta - db))
    np.testing.assert_allclose(
        -(f_plus - f_minus) / (2 * db), exact.energy_per_spin_infinite(T), atol=1e-7
    )


def test_spontaneous_magnetization():
    assert exact.spontaneous_magnetization(0.05) == 1.0
    assert exact.spontaneous_magnetization(2.0) == pytest.approx(
        (1.0 - np.sinh(1.0) ** -4) ** 0.125, rel=1e-14
    )
    assert exact.spontaneous_magnetization(TC + 1e-9) == 0.0
    assert np.all(exact.spontaneous_magnetization(np.array([3.0, 10.0])) == 0.0)
    T = np.linspace(0.5, TC - 1e-6, 50)
    m = exact.spontaneous_magnetization(T)
    assert np.all(np.diff(m) < 0) and np.all((m > 0) & (m < 1))
    # Critical behaviour m ~ A (1 - T/T_c)^(1/8) with A = (8 sqrt(2) K_c)^(1/8) = 1.22241.
    t = 1e-8
    amplitude = (8.0 * np.sqrt(2.0) / TC) ** 0.125
    assert exact.spontaneous_magnetization(TC * (1 - t)) / t**0.125 == pytest.approx(
        amplitude, rel=1e-6
    )
    # Finite tori below T_c: <|m|> is close to Onsager's m already at L = 8.
    T = np.array([1.5, 2.0])
    m_tm = exact.magnetization_moments(8, T)["abs_m"]
    assert np.all(np.abs(m_tm - exact.spontaneous_magnetization(T)) < [1e-5, 3e-4])


# --- enumeration -------------------------------------------------------------------------------


def test_state_encoding():
    states = exact.enumerate_states(3)
    assert states.shape == (512, 3, 3) and states.dtype == np.int8
    assert np.all(states[0] == -1) and np.all(states[511] == 1)
    for r in range(3):
        for c in range(3):
            lattice = states[1 << (3 * r + c)]
            assert lattice[r, c] == 1 and lattice.sum() == -7


@pytest.mark.parametrize("L", [2, 3, 4])
def test_state_energies_equal_direct_bond_sum(L):
    states = exact.enumerate_states(L).astype(float)
    bonds = (states * (np.roll(states, -1, axis=2) + np.roll(states, -1, axis=1))).sum(axis=(1, 2))
    magnet = states.sum(axis=(1, 2))
    J, h = 0.8, -0.35
    np.testing.assert_allclose(exact.state_energies(L, J, h), -J * bonds - h * magnet)


def test_density_of_states_five_by_five():
    g = exact.density_of_states(5)
    assert g.sum() == 2**25
    assert g[0, 0] == 1 and g[0, 25] == 1  # the two ground states
    assert g[4, 1] == 25 and g[4, 24] == 25  # one flipped spin breaks 4 bonds
    np.testing.assert_array_equal(g, g[:, ::-1])  # spin flip


def test_boltzmann_probabilities_and_symmetries():
    L, T = 3, 2.1
    p = exact.boltzmann_probabilities(L, T)
    assert p.sum() == pytest.approx(1.0, abs=1e-14)
    flipped = np.arange(p.size) ^ (p.size - 1)
    np.testing.assert_allclose(p, p[flipped], rtol=1e-13)
    # Relative probabilities are Boltzmann factors; ln Z is consistent.
    E = exact.state_energies(L)
    np.testing.assert_allclose(np.log(p), -E / T - exact.enumerate_log_z(L, T), rtol=0, atol=1e-12)
    # In a field, P(x)/P(flip x) = exp(2 beta h M(x)).
    h = 0.4
    p_h = exact.boltzmann_probabilities(L, T, h=h)
    M = exact.enumerate_states(L).sum(axis=(1, 2))
    np.testing.assert_allclose(np.log(p_h / p_h[flipped]), 2 * h * M / T, atol=1e-12)
    assert exact.boltzmann_probabilities(L, np.array([1.0, 2.0])).shape == (2, 512)


# --- transfer matrix -------------------------------------------------------------------------


@pytest.mark.parametrize("L", [3, 4])
@pytest.mark.parametrize(
    ("J", "h"), [(1.0, 0.0), (1.0, 0.3), (0.7, -1.2), (-1.0, 0.0), (-1.0, 0.5)]
)
def test_transfer_matrix_equals_enumeration(L, J, h):
    T = np.array([0.6, 1.5, TC, 3.0, 10.0])
    reference = exact.enumerate_observables(L, T, J, h)
    moments = exact.magnetization_moments(L, T, J, h)
    for key, value in moments.items():
        np.testing.assert_allclose(value, reference[key], rtol=1e-10, atol=1e-10, err_msg=key)
    energy = exact.transfer_matrix_energy(L, T, J, h)
    for key, value in energy.items():
        np.testing.assert_allclose(value, reference[key], rtol=1e-12, atol=1e-10, err_msg=key)


def test_magnetization_distribution_relative_precision_and_symmetry():
    """Every P(M), even below 1e-40, equals the enumerated one to ~1e-12 relative."""
    L, T = 4, 0.2
    M, P = exact.magnetization_distribution(L, T)
    np.testing.assert_array_equal(M, np.arange(-16, 17, 2))
    assert P.sum() == pytest.approx(1.0, abs=1e-14)
    np.testing.assert_allclose(P, P[::-1], rtol=1e-12)  # h = 0
    g = exact.density_of_states(L)
    u = np.arange(g.shape[0])[:, None]
    log_w = np.log(np.where(g > 0, g, 1)) + (2 * 16 - 2 * u) / T
    w = np.where(g > 0, np.exp(log_w - log_w.max()), 0.0).sum(axis=0)
    assert P.min() < 1e-40
    np.testing.assert_allclose(P, w / w.sum(), rtol=1e-12)
    # In a field: P_h(M) proportional to P_0(M) exp(beta h M).
    h = 0.25
    _, P_h = exact.magnetization_distribution(L, T, h=h)
    expected = P * np.exp(h * M / T)
    np.testing.assert_allclose(P_h, expected / expected.sum(), rtol=1e-12)


def test_transfer_matrix_sizes_and_shapes():
    M, P = exact.magnetization_distribution(8, np.array([1.0, 2.5]))
    assert M.shape == (65,) and P.shape == (2, 65)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=1e-14)
    assert isinstance(exact.magnetization_moments(5, 2.0)["binder"], float)
    # Antiferromagnet on an even torus maps to the ferromagnet (flip one sublattice) at h = 0.
    np.testing.assert_allclose(
        exact.transfer_matrix_energy(6, 1.7, J=-1.0)["c"],
        exact.specific_heat_per_spin(6, 1.7),
        rtol=1e-12,
    )


# --- conventions and validation --------------------------------------------------------------


def test_scalar_in_float_out_and_array_in_array_out():
    assert isinstance(exact.log_partition_function(4, 2.0), float)
    assert isinstance(exact.energy_per_spin_infinite(2.0), float)
    assert isinstance(exact.enumerate_observables(3, 2.0)["chi"], float)
    assert isinstance(exact.transfer_matrix_energy(3, 2.0)["e"], float)
    assert exact.specific_heat_per_spin(4, [1.0, 2.0, 3.0]).shape == (3,)
    assert exact.enumerate_observables(3, [1.0, 2.0])["binder"].shape == (2,)
    # J scales temperature: e(T; J) = J e(T/J; 1).
    assert exact.energy_per_spin(6, 3.0, J=1.5) == pytest.approx(
        1.5 * exact.energy_per_spin(6, 2.0), rel=1e-13
    )


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: kaufman.log_partition_function(1, 2.0), "lattice size"),
        (lambda: kaufman.energy_per_spin(4, 0.0), "temperature"),
        (lambda: kaufman.specific_heat_per_spin(4, [1.0, -2.0]), "temperature"),
        (lambda: kaufman.log_partition_function(4, float("nan")), "temperature"),
        (lambda: kaufman.log_partition_function(4, 2.0, J=-1.0), "J must be > 0"),
        (lambda: kaufman.log_partition_function(4.0, 2.0), "integer"),
        (lambda: kaufman.log_partition_function(4, np.ones((2, 2))), "1-D"),
        (lambda: onsager.spontaneous_magnetization(1.0, J=0.0), "J must be > 0"),
        (lambda: enumeration.enumerate_states(5), "between 2 and 4"),
        (lambda: enumeration.enumerate_log_z(6, 1.0), "between 2 and 5"),
        (lambda: enumeration.enumerate_observables(3, 1.0, h=float("inf")), "field"),
        (lambda: transfer_matrix.magnetization_distribution(11, 1.0), "between 2 and 10"),
    ],
)
def test_invalid_input_raises(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_onsager_at_very_low_temperature_is_the_ground_state_without_warnings():
    """J/T beyond sinh's range (K > ~355): the ground-state limits, quietly (sinh 2K = inf is
    the limit the formulas are written for, not an error)."""
    import warnings

    T = np.array([1e-3, 1e-5])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        e = exact.energy_per_spin_infinite(T)
        c = exact.specific_heat_infinite(T)
        m = exact.spontaneous_magnetization(T)
    np.testing.assert_allclose(e, -2.0, atol=1e-15)
    np.testing.assert_allclose(c, 0.0, atol=1e-12)
    np.testing.assert_allclose(m, 1.0, atol=1e-15)
