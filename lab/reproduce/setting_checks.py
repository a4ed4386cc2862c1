"""Checks of reproduction settings shared by the experiments: each raises one ValueError naming
the setting, so ``reproduce --set`` and the Reproductions dock refuse a bad value before any work
(the experiments' own ``check`` functions combine them)."""

from __future__ import annotations

from typing import Any


def integer_setting(settings: dict[str, Any], key: str, low: int, high: int | None = None) -> int:
    """``settings[key]``, an integer from ``low`` to ``high`` (ValueError naming it otherwise)."""
    value = settings[key]
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or value < low
        or (high is not None and value > high)
    ):
        bound = f"from {low} to {high}" if high is not None else f"≥ {low}"
        raise ValueError(f"setting {key!r} must be an integer {bound}, got {value!r}")
    return value


def check_data_fits(what: str, configurations: int, size: int, hidden: int = 0) -> None:
    """ValueError when ``configurations`` L×L Wolff configurations (int8, then float32 for the
    trainer, twice) and the weights of ``hidden`` units would not fit this machine's memory."""
    from lab.core.resources import check_fits

    spins = int(configurations) * int(size) ** 2
    check_fits(
        what,
        memory=9 * spins + 16 * int(size) ** 2 * int(hidden) + (64 << 20),
        advice="fewer samples or a smaller lattice",
    )


def temperature_list(
    settings: dict[str, Any],
    size: int,
    example: str = "[2.269, 3.0]",
    key: str = "temperatures",
    most: int | None = None,
) -> list[float]:
    """``settings[key]``: a non-empty list of numbers (at most ``most`` of them, when given),
    each a valid temperature of the L = ``size`` lattice
    (:class:`engines.ising.params.IsingParams`); ValueError otherwise."""
    from engines.ising.params import IsingParams

    temperatures = settings[key]
    if (
        not isinstance(temperatures, list)
        or not temperatures
        or (most is not None and len(temperatures) > most)
        or not all(isinstance(T, (int, float)) and not isinstance(T, bool) for T in temperatures)
    ):
        how_many = "a non-empty list" if most is None else f"a list of 1 to {most}"
        raise ValueError(
            f"setting {key!r} is {how_many} temperatures, e.g. {example}, got {temperatures!r}"
        )
    for T in temperatures:
        IsingParams(size=size, temperature=float(T)).validate()
    return [float(T) for T in temperatures]
