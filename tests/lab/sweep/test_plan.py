"""Sweep plans: lists, ranges, crossed and zipped grids, derived seeds, TOML, and the one-line
errors of bad plans (no cluster here)."""

from __future__ import annotations

import numpy as np
import pytest

from lab.sweep.plan import PlanError, SweepPlan, derived_seed, expand_text
from lab.sweep.runs import SweepState, combine


def test_lists_and_ranges_expand_to_the_numbers_one_would_type():
    assert expand_text("16,32") == ["16", "32"]
    assert expand_text("2.0:2.6:4") == ["2", "2.2", "2.4", "2.6"]
    assert expand_text("1:2:1, 5") == ["1", "5"]
    assert expand_text("cuda:0") == ["cuda:0"]  # one colon: a value, not a range
    with pytest.raises(PlanError, match="count must be ≥ 1"):
        expand_text("1:2:0", "temperature")
    with pytest.raises(PlanError, match="no values"):
        expand_text(" , ", "size")
    for text in ("2,,3", "2,3,", ",2"):
        with pytest.raises(PlanError, match="has an empty item"):
            expand_text(text, "size")


def test_the_grid_is_the_product_in_order_with_replicates_and_derived_seeds():
    plan = SweepPlan.build(
        "simulate",
        {"samples": "10"},
        [("size", "8,16"), ("temperature", "2.0:2.6:4")],
        seeds=2,
        seed=7,
    )
    points = plan.points()
    assert plan.n_points == len(points) == 16
    assert [p.values["size"] for p in points[::2]] == ["8"] * 4 + ["16"] * 4
    assert [p.values["temperature"] for p in points[:8:2]] == ["2", "2.2", "2.4", "2.6"]
    assert (points[3].grid_index, points[3].replicate) == (1, 1)
    assert points[3].seed == derived_seed(7, 1, 1)
    assert points[3].seed == int(
        np.random.SeedSequence(7, spawn_key=(1, 1)).generate_state(1, np.uint32)[0]
    )
    assert len({p.seed for p in points}) == 16
    ns = plan.namespace(points[3], "S.h5")  # the command's own parser
    assert (ns.size, ns.temperature, ns.samples, ns.seed, ns.out) == (
        8,
        2.2,
        10,
        points[3].seed,
        "S.h5",
    )


def test_zipped_options_advance_together_and_explicit_seeds_are_kept():
    plan = SweepPlan.build(
        "train", {"data": "ising-001"}, [("seed", "5,6")], [("hidden", "4,8"), ("lr", "0.01,0.02")]
    )
    points = plan.points()
    assert [(p.values["hidden"], p.values["lr"], p.seed) for p in points] == [
        ("4", "0.01", 5),
        ("8", "0.02", 5),
        ("4", "0.01", 6),
        ("8", "0.02", 6),
    ]
    with pytest.raises(PlanError, match="one length"):
        SweepPlan.build("train", {}, [], [("hidden", "4,8"), ("lr", "0.01")])


def test_pooled_runs_and_flags_reach_the_command_line():
    plan = SweepPlan.build(
        "train", {"centering": True}, [("data", "ising-001+ising-002,ising-003")]
    )
    first, second = plan.points()
    ns = plan.namespace(first, "S.h5")
    assert ns.data == ["ising-001", "ising-002"] and ns.centering is True
    assert plan.namespace(second, "S.h5").data == ["ising-003"]


def test_a_toml_plan_reads_as_the_same_plan_as_the_command_line(tmp_path):
    path = tmp_path / "plan.toml"
    path.write_text(
        'kind = "simulate"\nseeds = 2\nseed = 3\n[fixed]\nsamples = 200\n'
        "no-spins = true\n[grid]\nsize = [16, 32]\n"
        "temperature = { start = 2.0, stop = 2.6, count = 4 }\n"
    )
    plan = SweepPlan.from_toml(path)
    same = SweepPlan.build(
        "simulate",
        {"samples": "200", "no_spins": True},
        [("size", "16,32"), ("temperature", "2.0:2.6:4")],
        seeds=2,
        seed=3,
    )
    assert plan == same
    assert SweepPlan.from_json(plan.to_json()) == plan
    assert plan.namespace(plan.points()[0], "S.h5").no_spins is True


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('kind = "anneal"\n[grid]\nsize = [8]', "unknown kind 'anneal'"),
        ('kind = "simulate"\n[fixed]\nsize = 8', "the grid is empty"),
        ('kind = "simulate"\n[grid]\nsize = []', "size: the list of values is empty"),
        ('kind = "simulate"\n[grid]\ntempreature = [1, 2]', "no option 'tempreature'"),
        ('kind = "simulate"\n[grid]\nsize = { start = 8, stop = 16 }', "a range is"),
        ('kind = "simulate"\ncolour = 1', "unknown key 'colour'"),
        ('kind = "simulate"\n[grid]\nsize = [8, 16', "not valid TOML"),
        ('kind = "simulate"\nseeds = 0\n[grid]\nsize = [8, 16]', "seeds"),
    ],
)
def test_bad_plans_are_one_line(tmp_path, toml, message):
    path = tmp_path / "plan.toml"
    path.write_text(toml)
    with pytest.raises(PlanError, match=message) as info:
        SweepPlan.from_toml(path)
    assert "\n" not in str(info.value)


def test_a_bad_value_is_refused_by_the_commands_own_type():
    plan = SweepPlan.build("simulate", {}, [("size", "8,-3")])
    with pytest.raises(PlanError, match=r"point 2 \(size=-3.*size L must be an integer"):
        [plan.namespace(p, "S.h5") for p in plan.points()]


def test_the_sweep_run_records_and_reads_back_its_state():
    plan = SweepPlan.build("simulate", {"samples": "10"}, [("size", "8,16")], seeds=2)
    state = SweepState.new("sweep-001", plan, [f"ising-00{i}" for i in range(1, 5)])
    state.mark(0, "finished", seconds=1.5, nbytes=1000, worker="tcp://a", filed=True)
    state.mark(1, "failed", "diverged", filed=True)
    run = state.record()
    assert run.groups["grid"]["size"] == [8, 8, 16, 16]
    assert run.groups["points"]["status"] == ["finished", "failed", "pending", "pending"]
    assert run.inputs == ["ising-001", "ising-002"]
    back = SweepState.from_record(run)
    assert [r.status for r in back.unfinished] == ["failed", "pending", "pending"]
    back.end()
    assert back.status == "interrupted"


def test_replicates_combine_with_the_larger_of_spread_and_propagated_error():
    assert combine([1.0], [0.1]) == (1.0, 0.1)
    mean, error = combine([1.0, 3.0], [0.1, 0.1])
    assert mean == 2.0 and error == pytest.approx(1.0)  # the spread dominates
    mean, error = combine([1.0, 1.0], [0.2, 0.2])
    assert error == pytest.approx(np.sqrt(0.08) / 2)


def test_rg_flows_temperatures_are_passed_as_written_and_swept_only_as_a_list_of_texts(
    tmp_path,
):
    from lab.cli.shell import build_parser
    from lab.sweep.commands import plan_from_args

    argv = ["sweep", "S.h5", "rg-flow", "--rule", "majority,decimation"]
    argv += ["--temperatures", "2.0:2.6:4", "--size", "8"]
    plan = plan_from_args(build_parser().parse_args(argv))
    assert plan.n_points == 2  # the rule is swept; the flow's four temperatures are one value
    assert plan.fixed["temperatures"] == "2.0:2.6:4"
    assert "--temperatures" in plan.points()[0].argv
    toml = tmp_path / "plan.toml"
    toml.write_text(
        'kind = "rg-flow"\n[fixed]\nsize = 8\n[grid]\ntemperatures = ["2.0:2.6:4", "1.5, 3.5"]\n'
    )
    swept = SweepPlan.from_toml(toml)
    assert swept.grid == (("temperatures", ("2.0:2.6:4", "1.5, 3.5")),)
    with pytest.raises(PlanError, match="empty"):
        SweepPlan.build("rg-flow", {"size": "8"}, [("temperatures", [])], from_text=False)
