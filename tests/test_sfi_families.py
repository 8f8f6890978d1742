"""The instance families: valid instances whose features lie in each family's ranges."""

from __future__ import annotations

import numpy as np
import pytest

from invswarm.engine.cli import main
from invswarm.engine.errors import InputError
from invswarm.engine.models.sfi import Instance
from invswarm.engine.models.sfi.families import FAMILIES, generate_family


def _orders(doc) -> np.ndarray:
    o = doc["orders"]
    return np.array(o["scenarios"] if isinstance(o, dict) else [o], float)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_every_family_gives_valid_instances_in_its_ranges(family):
    fam = FAMILIES[family]
    for seed in range(12):
        doc = generate_family(family, periods=8, categories=3, products_per_category=3,
                              seed=seed)
        inst = Instance.from_json(doc)  # raises on anything the format refuses
        assert fam.stages[0] <= inst.n_stages <= fam.stages[1]
        S = inst.n_stages - 1
        assert fam.line_hours[0] - 1 <= inst.tau[S] <= fam.line_hours[1] + S
        orders = _orders(doc)
        cap = np.array(doc["periods"]["capacity"])
        if orders.shape[0] == 1:  # with scenarios the forecast drawn against is not in the doc
            ratio = cap / orders[0].sum(axis=0)
            assert np.all(ratio >= fam.capacity[0] - 1e-3) and np.all(ratio <= fam.capacity[1]
                                                                      + 1e-3)
        assert fam.scenarios[0] <= orders.shape[0] <= fam.scenarios[1]
        levels = inst.service_level
        assert np.all(levels >= fam.service_level[0] - 1e-3)
        assert np.all(levels <= fam.service_level[1] + 1e-3)
        prio = [p["priority"] for p in doc["products"]]
        assert sorted(prio) == list(range(9))
        assert ("initial" in doc) == (fam.initial_stock[1] > 0)
        assert fam.disposal_rate[0] - 1e-3 <= doc["disposal_rate"] <= fam.disposal_rate[1] + 1e-3


def test_families_differ_where_they_say_they_do():
    def mean_of(family, feature):
        vals = []
        for seed in range(20):
            inst = Instance.from_json(generate_family(family, periods=6, categories=2,
                                                      products_per_category=3, seed=seed))
            vals.append(feature(inst))
        return float(np.mean(vals))

    # setups against holding one period's orders at the stage
    def setup_vs_hold(inst):
        mid = inst.n_stages // 2
        return inst.setup_dedicated[mid] / (inst.hold[mid] * inst.orders.mean() * inst.fulfil[0])

    assert mean_of("setup-heavy", setup_vs_hold) > 5 * mean_of("balanced", setup_vs_hold)
    assert mean_of("holding-heavy", setup_vs_hold) < mean_of("balanced", setup_vs_hold) / 5
    assert mean_of("long-line", lambda i: i.n_stages) > mean_of("short-line", lambda i: i.n_stages)
    spread = lambda i: np.std(np.log(i.orders.mean(axis=(0, 2))))  # noqa: E731
    assert mean_of("heterogeneous", spread) > 3 * mean_of("balanced", spread)


def test_same_seed_same_instance_and_families_are_unrelated_draws():
    a = generate_family("tight", periods=6, categories=2, products_per_category=2, seed=3)
    assert a == generate_family("tight", periods=6, categories=2, products_per_category=2,
                                seed=3)
    b = generate_family("slack", periods=6, categories=2, products_per_category=2, seed=3)
    assert a["orders"] != b["orders"]


def test_wide_covers_every_family():
    wide = FAMILIES["wide"]
    for fam in FAMILIES.values():
        assert wide.stages[0] <= fam.stages[0] and fam.stages[1] <= wide.stages[1]
        assert wide.capacity[0] <= fam.capacity[0] and fam.capacity[1] <= wide.capacity[1]
        assert wide.setup_weight[0] <= fam.setup_weight[0]
        assert fam.setup_weight[1] <= wide.setup_weight[1]


@pytest.mark.parametrize(("kw", "field"), [({"family": "nope"}, "family"),
                                           ({"periods": 0}, "periods"),
                                           ({"categories": 1.5}, "categories"),
                                           ({"seed": -1}, "seed")])
def test_bad_arguments_name_the_field(kw, field):
    args = {"family": "balanced", "periods": 4, "categories": 2, "products_per_category": 2,
            "seed": 0, **kw}
    with pytest.raises(InputError) as e:
        generate_family(args.pop("family"), **args)
    assert e.value.field == field


def test_cli_generates_a_family_and_refuses_what_the_family_draws(tmp_path, capsys):
    out = tmp_path / "i.json"
    assert main(["generate", "sfi", "--periods", "4", "--categories", "2",
                 "--products-per-category", "2", "--seed", "5", "--family", "uncertain",
                 "--out", str(out)]) == 0
    assert main(["solve", str(out), "--method", "pso", "--max-iter", "5",
                 "--out", str(tmp_path / "r.json")]) == 0
    assert main(["generate", "sfi", "--periods", "4", "--categories", "2",
                 "--products-per-category", "2", "--seed", "5", "--family", "tight",
                 "--scenarios", "2"]) == 2
    assert "scenarios: is drawn by the family" in capsys.readouterr().err
