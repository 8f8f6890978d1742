"""SFI plans: the JSON format and the feasibility check that names each violation."""

import numpy as np
import pytest

from invswarm.engine.errors import InputError
from invswarm.engine.models.sfi import Plan, load_steel, violations


@pytest.fixture(scope="module")
def inst():
    return load_steel(6)


def _plan(inst, **change):
    C, P, T = inst.n_categories, inst.n_products, inst.n_periods
    arrays = dict(pdp=np.full((C, T), 2), generic=np.zeros((C, T)),
                  codp=np.full((P, T), 4), dedicated=np.full((P, T), 3000.0))
    arrays.update(change)
    return Plan(**arrays)


def test_feasible_plan_has_no_violation(inst):
    assert violations(inst, _plan(inst)) == []


def test_each_violation_is_named(inst):
    pdp = np.full((3, 6), 2)
    pdp[1, 3] = 6            # not a PDP candidate (1-5)
    codp = np.full((9, 6), 4)
    codp[0, 2] = 1           # not a CODP candidate (2-7)
    pdp[2, 4] = 5
    codp[7, 4] = 3           # upstream of its category's PDP (5)
    ded = np.full((9, 6), 3000.0)
    ded[:, 5] = 5000.0       # 45,000 > 37,000
    found = dict(violations(inst, _plan(inst, pdp=pdp, codp=codp, dedicated=ded)))
    assert "not a PDP candidate" in found["pdp[1][3]"]
    assert "not a CODP candidate" in found["codp[0][2]"]
    assert "upstream of the PDP of category 2" in found["codp[7][4]"]
    assert "exceeds the capacity" in found["generic[*][5]"]
    # The other products of categories 1 and 2 keep CODP 4, now upstream of their PDP.
    assert set(found) == {"pdp[1][3]", "codp[0][2]", "codp[7][4]", "generic[*][5]",
                          "codp[3][3]", "codp[4][3]", "codp[5][3]", "codp[6][4]", "codp[8][4]"}


def test_negative_or_nan_quantity_and_wrong_shape(inst):
    gen = np.zeros((3, 6))
    gen[0, 0] = -1
    gen[1, 1] = np.nan
    found = dict(violations(inst, _plan(inst, generic=gen)))
    assert set(found) == {"generic[0][0]", "generic[1][1]"}
    found = violations(inst, _plan(inst, codp=np.full((9, 5), 4)))
    assert found == [("codp", "must have shape (9, 6), got (9, 5)")]


def test_from_json_rejects_with_field_names(inst):
    good = _plan(inst).to_json()
    assert Plan.from_json(good, inst).dedicated.sum() == 9 * 6 * 3000
    bad = dict(good, codp=good["codp"][:-1])
    with pytest.raises(InputError, match=r"^codp: must have length 9, got 8"):
        Plan.from_json(bad, inst)
    bad = dict(good, generic=[[0, 0, 0, 0, 0, "x"]] * 3)
    with pytest.raises(InputError, match=r"^generic\[0\]\[5\]: must be a number"):
        Plan.from_json(bad, inst)
    bad = dict(good, pdp=[[2, 2, 2, 2, 2, 9]] * 3)
    with pytest.raises(InputError, match=r"^pdp\[0\]\[5\]: must be <= 7, got 9"):
        Plan.from_json(bad, inst)
    ded = np.full((9, 6), 3000.0)
    ded[0, 0] = 20000
    with pytest.raises(InputError, match=r"^plan.generic\[\*\]\[0\]: .* exceeds the capacity"):
        Plan.from_json(_plan(inst, dedicated=ded).to_json(), inst)
    with pytest.raises(InputError, match=r"^extra: unknown field"):
        Plan.from_json(dict(good, extra=1), inst)


def test_cleaned_zeroes_what_is_within_the_solver_tolerance_of_zero(inst):
    gen = np.array([[1e-10, -1e-10, 2e-9, 3300.0000000000005, 12.5, 0.0]] * 3)
    clean = _plan(inst, generic=gen).cleaned()
    np.testing.assert_array_equal(clean.generic[0], [0.0, 0.0, 2e-9, 3300.0000000000005, 12.5,
                                                     0.0])
