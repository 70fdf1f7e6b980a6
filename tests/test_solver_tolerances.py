"""Per-state absolute tolerances as CVODE applies them: Model.atol x each state's scale
(models/variables.tsv), set through roadrunner's ``setIndividualTolerance``."""

import pytest

from thymosim import default_model

MISALIGNED = (
    "known defect: roadrunner 2.10's setIndividualTolerance writes a floating species' tolerance at its "
    "index among the floating species (rate-rule states after them), while CVODE's state vector holds the "
    "rate-rule states first; with 22 rate-rule states every per-state tolerance lands 22 places off. The "
    "accuracy budget (tests/test_accuracy.py) is met with the tolerances as they land; written in state "
    "order, the default arm takes 2.7 % fewer steps but ta1_normal leaves the budget further (IFNg 3.0e-4 of "
    "its small range), so the fix waits for a budget check on that scenario"
)


def _tolerances() -> tuple[list[str], list[float], list[float]]:
    model = default_model()
    rr = model.runner()
    applied = list(rr.getIntegrator().getValue("absolute_tolerance"))
    ids = [rr.model.getStateVectorId(i) for i in range(len(applied))]
    return ids, applied, [model.atol * model.atol_scale.get(sid, 1.0) for sid in ids]


@pytest.mark.xfail(strict=True, reason=MISALIGNED)
def test_each_state_gets_the_tolerance_of_its_own_scale():
    ids, applied, expected = _tolerances()
    wrong = [sid for sid, a, e in zip(ids, applied, expected, strict=True) if a != pytest.approx(e, rel=1e-12)]
    assert not wrong, f"{len(wrong)} of {len(ids)} states have another state's tolerance, e.g. {wrong[:3]}"

