"""RBM engine quality and speed: ours against exact maximum likelihood and scikit-learn.

Run: ``python -m benchmarks.rbm [--quick] [--section quality|speed|epochs]``; prints one JSON
object on stdout (not a test). ``--section`` runs one of the parts below (default: all).

1. ``quality``: 10⁴ configurations of the 4×4 Ising model at T_c (Wolff, seeded, one sweep
   apart), the first 9000 for training and the last 1000 for validation. Three models with the same
   number of hidden units (the default 64) are compared by the exact ``KL(p_Ising ‖ p_RBM)`` over
   all 2¹⁶ states (p_Ising from ``engines.exact.boltzmann_probabilities``, p_RBM by enumeration),
   and by their exact held-out NLL:

   * ``ours``: :class:`engines.rbm.RBMTrainer` with the default :class:`engines.rbm.RBMConfig`;
   * ``exact_ml``: full-batch gradient ascent of the exact training log-likelihood, the model
     expectation enumerated over all 2¹⁶ visible states (Adam, lr 0.01), i.e. the best this data and
     this architecture allow up to optimization; reported along its iterations;
   * ``sklearn``: ``sklearn.neural_network.BernoulliRBM`` (its defaults: PCD-1, lr 0.1, batches of
     10) on the {0,1} data for the same wall time as ours, converted exactly to our convention
     (``engines.rbm.from_zero_one``). Skipped, with a note, when scikit-learn is not installed.

   The reference values: the Ising entropy (the NLL of the true distribution) and the KL of the
   independent-spin model.
2. ``speed``: PCD-1 updates at n = 1024, m = 256, batches of 100 (and 100 persistent chains):
   training samples per second of ours (float32 torch, with and without the global-flip move) and
   of scikit-learn (float64 numpy) in the same run, their ratio (target ≥ 3), and our flop rate as
   a fraction of the machine's float32 ``torch.mm`` rate (2048² products) measured in the same run;
   all of it once with every thread (torch's and OpenBLAS's default) and once with one thread
   (``torch.set_num_threads``, ``threadpoolctl``). One PCD-1 update of ours does five n×m matrix
   products per row, ``2nm(2B + 3C)`` flops (B = batch, C = chains): ``v_data W``, ``h Wᵀ``,
   ``v' W`` and the gradient ``v_dataᵀ p_data - v'ᵀ p'`` (scikit-learn does the same five).
   Both sides run the same number of updates of the same batch size with the same threads;
   scikit-learn's ``fit`` also pays its weight initialization (about 1% of an epoch) and ours
   its momentum, divergence check and, by default, flip moves. scikit-learn keeps float32 input
   in float32, so its float32 rate is reported too (``sklearn_float32_*``): the like-for-like
   dtype, about twice its float64 rate, against which 3× is out of reach (the matrix products
   alone are about two thirds of our update).

3. ``epochs``: seconds per epoch at n = 1600, m = 400 (L = 40 at T_c, Mehta & Schwab's first
   level) with ``train``'s defaults for Ising data, through the training task as ``train`` runs
   it: the metrics on their default automatic schedule (``--metrics-every 0``), every epoch
   (what ``train`` did before) and only at the run's ends; the metrics' share of the updates'
   time (target ≤ 10 %), and the cost of one monitor measurement.

Timings are the best of a few rounds in which all the measured actions take turns, which is the
fairest figure on a shared machine; the JSON records the load average and thread counts.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import time
from collections.abc import Callable

import numpy as np
import torch

from benchmarks.timing import best_time
from engines.exact import boltzmann_probabilities, critical_temperature
from engines.ising import IsingParams, IsingSimulation
from engines.rbm import (
    RBM,
    RBMConfig,
    RBMTrainer,
    all_visible_states,
    from_zero_one,
    log_partition_exact,
    log_probabilities_exact,
    nll,
)

T_C = critical_temperature()
L = 4
N_SAMPLES = 10_000
N_TRAIN = 9_000


def ising_data(seed: int = 2024) -> np.ndarray:
    """10⁴ flattened 4×4 configurations at T_c, Wolff, one sweep apart."""
    sim = IsingSimulation(IsingParams(L, T_C, algorithm="wolff", seed=seed))
    sim.thermalize(200)
    out = np.empty((N_SAMPLES, L * L), dtype=np.int8)
    for i in range(N_SAMPLES):
        sim.sweep()
        out[i] = sim.spins.reshape(-1)
    return out


class Judge:
    """Exact KL to the Ising distribution and exact NLL on the validation set."""

    def __init__(self, validation: np.ndarray) -> None:
        self.p = boltzmann_probabilities(L, T_C)
        self.log_p = np.log(self.p)
        self.validation = validation

    def __call__(self, model: RBM) -> dict:
        log_q = log_probabilities_exact(model)
        return {
            "kl": float(np.sum(self.p * (self.log_p - log_q))),
            "nll_valid": nll(model, self.validation, log_partition_exact(model)),
        }


def train_ours(train: np.ndarray, validation: np.ndarray, judge: Judge, epochs: int) -> dict:
    config = RBMConfig(epochs=epochs)
    trainer = RBMTrainer(config, train, validation)
    start = time.perf_counter()
    while not trainer.finished:
        trainer.step_batch()
    seconds = time.perf_counter() - start
    return {
        "config": config.to_dict(),
        "updates": config.epochs * trainer.n_batches,
        "train_seconds": seconds,
        **judge(trainer.model),
    }


def train_exact_ml(
    train: np.ndarray, judge: Judge, n_hidden: int, iterations: int, report: tuple[int, ...]
) -> dict:
    """Full-batch Adam on the exact log-likelihood gradient (model side enumerated, float32)."""
    n = train.shape[1]
    states = torch.as_tensor(all_visible_states(n), dtype=torch.float32)
    index = ((train > 0).astype(np.int64) << np.arange(n)).sum(1)
    counts = np.bincount(index, minlength=1 << n)
    seen = np.flatnonzero(counts)
    data_v = states[seen]
    data_w = torch.as_tensor(counts[seen] / counts.sum(), dtype=torch.float32)
    model = RBM.random(n, n_hidden, torch.Generator().manual_seed(0), data=train)
    params = [model.W, model.a, model.b]
    first = [torch.zeros_like(p) for p in params]
    second = [torch.zeros_like(p) for p in params]
    history = []
    start = time.perf_counter()
    for t in range(1, iterations + 1):
        with torch.no_grad():
            ph_data = torch.sigmoid(model.hidden_inputs(data_v))
            x = model.hidden_inputs(states)
            log_w = states @ model.a + torch.nn.functional.softplus(x).sum(1)
            p_model = torch.softmax(log_w, 0)
            ph_model = torch.sigmoid(x)
            grads = [
                data_v.T @ (data_w[:, None] * ph_data) - states.T @ (p_model[:, None] * ph_model),
                data_w @ data_v - p_model @ states,
                data_w @ ph_data - p_model @ ph_model,
            ]
            for p, g, m1, m2 in zip(params, grads, first, second, strict=True):
                m1.mul_(0.9).add_(g, alpha=0.1)
                m2.mul_(0.999).addcmul_(g, g, value=0.001)
                p.add_(0.01 * (m1 / (1 - 0.9**t)) / ((m2 / (1 - 0.999**t)).sqrt() + 1e-8))
        if t in report:
            history.append({"iteration": t, "seconds": time.perf_counter() - start, **judge(model)})
    return {"optimizer": "adam lr 0.01, full batch", "history": history}


def train_sklearn(train: np.ndarray, judge: Judge, n_hidden: int, seconds: float) -> dict:
    try:
        from sklearn.neural_network import BernoulliRBM
    except ImportError:
        return {"skipped": "scikit-learn is not installed (pip install scikit-learn)"}
    x01 = (train > 0).astype(np.float64)
    probe = BernoulliRBM(n_components=n_hidden, n_iter=1, random_state=0)
    one_epoch = best_time(lambda: probe.fit(x01), repeats=1)
    n_iter = max(1, round(seconds / one_epoch))
    rbm = BernoulliRBM(n_components=n_hidden, n_iter=n_iter, random_state=0)
    start = time.perf_counter()
    rbm.fit(x01)
    elapsed = time.perf_counter() - start
    model = from_zero_one(rbm.components_.T, rbm.intercept_visible_, rbm.intercept_hidden_)
    return {
        "settings": {
            "learning_rate": rbm.learning_rate,
            "batch_size": rbm.batch_size,
            "n_iter": n_iter,
        },
        "train_seconds": elapsed,
        **judge(model),
    }


def quality(quick: bool) -> dict:
    data = ising_data()
    train, validation = data[:N_TRAIN], data[N_TRAIN:]
    judge = Judge(validation)
    p = judge.p
    m = np.clip(train.mean(0, dtype=np.float64), -0.999, 0.999)
    independent = RBM(np.zeros((L * L, 1)), np.arctanh(m), np.zeros(1), dtype=torch.float64)
    out = {
        "L": L,
        "temperature": T_C,
        "n_train": N_TRAIN,
        "n_validation": N_SAMPLES - N_TRAIN,
        "ising_entropy": float(-np.sum(p * judge.log_p)),
        "independent_spins": judge(independent),
    }
    out["ours"] = train_ours(train, validation, judge, epochs=20 if quick else 100)
    n_hidden = out["ours"]["config"]["n_hidden"]
    iterations = 300 if quick else 2000
    report = tuple(sorted({100, 300, 1000, 2000} & set(range(1, iterations + 1))))
    out["exact_ml"] = train_exact_ml(train, judge, n_hidden, iterations, report)
    out["sklearn"] = train_sklearn(train, judge, n_hidden, out["ours"]["train_seconds"])
    return out


def _ours_updates(
    data: np.ndarray, n_hidden: int, batch: int, updates: int, flips: bool
) -> Callable[[], None]:
    """``updates`` PCD-1 updates of one trainer per call (after a few warm-up updates)."""
    config = RBMConfig(
        n_hidden=n_hidden,
        batch_size=batch,
        method="pcd",
        k=1,
        epochs=1000,
        flip_moves=flips,
        validation_fraction=0.0,
    )
    trainer = RBMTrainer(config, data)
    for _ in range(5):
        trainer.step_batch()

    def run() -> None:
        for _ in range(updates):
            trainer.step_batch()

    return run


def _sklearn_epoch(x01: np.ndarray, n_hidden: int, batch: int) -> Callable[[], None]:
    """One epoch of ``BernoulliRBM.fit`` (PCD-1, its own batches of ``batch`` rows) per call, in
    the dtype of ``x01`` (scikit-learn keeps float32 or float64)."""
    from sklearn.neural_network import BernoulliRBM

    rbm = BernoulliRBM(n_components=n_hidden, batch_size=batch, n_iter=1, random_state=0)
    return lambda: rbm.fit(x01)


def _interleaved_best(actions: dict[str, Callable[[], object]], rounds: int) -> dict[str, float]:
    """Best wall time of each action over ``rounds`` rounds in which the actions take turns, so
    that all of them meet the same stretches of load on a shared machine."""
    best = dict.fromkeys(actions, math.inf)
    for _ in range(rounds):
        for name, action in actions.items():
            best[name] = min(best[name], best_time(action, repeats=1))
    return best


def speed(quick: bool) -> dict:
    """PCD-1 throughput at n = 1024, m = 256, B = C = 100, with all threads and with one.

    Ours, ours without flip moves, scikit-learn in float64 (the target's reference) and in float32
    (the fairer dtype for a float32 engine, reported beside it) and the ``torch.mm`` rate take turns
    in every round; each figure is its best round.
    """
    n, m, batch = 1024, 256, 100
    rng = np.random.default_rng(0)
    data = np.where(rng.random((5000, n)) < 0.5, 1, -1).astype(np.int8)
    updates = 20 if quick else 50
    rounds = 3 if quick else 5
    flops_per_update = 2 * n * m * (2 * batch + 3 * batch)
    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    try:
        import sklearn  # noqa: F401
        from threadpoolctl import threadpool_limits
    except ImportError:
        threadpool_limits = None
    out: dict = {
        "n_visible": n,
        "n_hidden": m,
        "batch_size": batch,
        "persistent_chains": batch,
        "updates_timed": updates,
        "rounds": rounds,
        "flops_per_update": flops_per_update,
    }
    sk_data = (data[: updates * batch] > 0).astype(np.float64)
    default_threads = torch.get_num_threads()
    for threads in sorted({default_threads, 1}, reverse=True):
        torch.set_num_threads(threads)
        actions: dict[str, Callable[[], object]] = {
            "mm": lambda: torch.mm(a, b),
            "ours": _ours_updates(data, m, batch, updates, flips=True),
            "ours_without_flip_moves": _ours_updates(data, m, batch, updates, flips=False),
        }
        if threadpool_limits is None:
            best = _interleaved_best(actions, rounds)
        else:
            actions["sklearn"] = _sklearn_epoch(sk_data, m, batch)
            actions["sklearn_float32"] = _sklearn_epoch(sk_data.astype(np.float32), m, batch)
            with threadpool_limits(limits=threads):
                best = _interleaved_best(actions, rounds)
        rate = {name: batch * updates / seconds for name, seconds in best.items()}
        row: dict = {
            "torch_mm_float32_gflops": 2 * 2048**3 / best["mm"] / 1e9,
            "ours_samples_per_second": rate["ours"],
            "ours_without_flip_moves": rate["ours_without_flip_moves"],
        }
        row["ours_gflops"] = rate["ours"] / batch * flops_per_update / 1e9
        row["fraction_of_matmul_rate"] = row["ours_gflops"] / row["torch_mm_float32_gflops"]
        if threadpool_limits is None:
            row["sklearn"] = "skipped: scikit-learn is not installed (pip install scikit-learn)"
        else:
            row["sklearn_samples_per_second"] = rate["sklearn"]
            row["ratio_ours_over_sklearn"] = rate["ours"] / rate["sklearn"]
            row["ratio_without_flip_moves"] = rate["ours_without_flip_moves"] / rate["sklearn"]
            row["sklearn_float32_samples_per_second"] = rate["sklearn_float32"]
            row["ratio_ours_over_sklearn_float32"] = rate["ours"] / rate["sklearn_float32"]
        out[f"threads_{threads}"] = row
    torch.set_num_threads(default_threads)
    return out


def _epoch_costs(trainer_factory, metrics_every: int, epochs: int) -> dict:
    """Train ``epochs`` epochs through the task (as ``train`` does, the monitor off) and split
    the wall time into updates and metrics, over epochs 1 … epochs (epoch 0's metrics, before
    any update, are a fixed cost of every run and left out) and between the ends (1 … epochs
    - 1: the last epoch's metrics are a fixed cost too)."""
    from lab.rbm.task import RBMRecording, RBMTrainingTask

    task = RBMTrainingTask(trainer_factory(), RBMRecording(), metrics_every=metrics_every)
    while not task.finished:
        task.step()
    history, _, _ = task.recording.copy()
    updates = float(history["seconds"][1:].sum())
    metrics = float(history["metric_seconds"][1:].sum())
    between = float(history["metric_seconds"][1:-1].sum()) / float(history["seconds"][1:-1].sum())
    measured = np.isfinite(history["nll_train"])
    return {
        "metrics_every": metrics_every,
        "epochs": epochs,
        "measured_epochs": [int(e) for e in history["epoch"][measured]],
        "update_seconds_per_epoch": updates / epochs,
        "metric_seconds_per_measurement": float(history["metric_seconds"][measured].mean()),
        "seconds_per_epoch": (updates + metrics) / epochs,
        "metrics_over_updates": metrics / updates,
        "metrics_over_updates_between_the_ends": between,
    }


def epoch_costs(quick: bool) -> dict:
    """Seconds per epoch at n = 1600, m = 400 (Mehta & Schwab's first level: L = 40 at T_c,
    Wolff samples) with ``train``'s defaults for Ising data (:func:`ising_config`), the metrics
    on their default automatic schedule, every epoch (what ``train`` did before) and at the
    run's ends only ("none" in between); and the cost of one monitor measurement, which runs
    ``--monitor-every`` apart (about 20 times in a run by default)."""
    from engines.rbm.recipes import ising_config
    from lab.rbm.task import RBMRecording, RBMTrainingTask

    size, rows = 40, 2000 if quick else 5000
    sim = IsingSimulation(IsingParams(size, critical_temperature(), seed=0, algorithm="wolff"))
    sim.thermalize(200)
    data = np.empty((rows, size * size), dtype=np.int8)
    for row in range(rows):
        sim.sweep(2)
        data[row] = sim.spins_copy().reshape(-1)
    epochs = 4 if quick else 12
    long_run = 8 if quick else 100  # the automatic schedule measures between the ends

    def factory(epochs: int = epochs) -> RBMTrainer:
        return RBMTrainer(ising_config(rows, n_hidden=400, epochs=epochs), data)

    out: dict = {"n_visible": size * size, "n_hidden": 400, "configurations": rows}
    out["config"] = {
        key: getattr(ising_config(rows, n_hidden=400, epochs=epochs), key)
        for key in ("method", "k", "n_chains", "batch_size", "symmetry", "optimizer")
    }
    out["automatic"] = _epoch_costs(lambda: factory(long_run), 0, long_run)
    out["every_epoch"] = _epoch_costs(factory, 1, epochs)
    out["none_between_the_ends"] = _epoch_costs(factory, epochs, epochs)
    task = RBMTrainingTask(factory(), RBMRecording(), monitor_every=1)
    start = time.perf_counter()
    task.model_observables()
    out["monitor_seconds_per_measurement"] = time.perf_counter() - start
    out["target"] = "metrics <= 10 % of an epoch at 1600 x 400 (or run less often by default)"
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs, rougher figures")
    parser.add_argument(
        "--section",
        choices=("quality", "speed", "epochs"),
        help="run only this part (default: all three)",
    )
    args = parser.parse_args()
    sections = {"quality": quality, "speed": speed, "epochs": epoch_costs}
    if args.section:
        sections = {args.section: sections[args.section]}
    result = {
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor(),
            "cpu_count": os.cpu_count(),
            "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(),
            "load_average": os.getloadavg(),
        },
        **{name: run(args.quick) for name, run in sections.items()},
    }
    result["machine"]["load_average_after"] = os.getloadavg()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
