"""Periodic steady state of a drug's PK, numerically from the compiled model (no rate law here).

A dosing record marked ``ss`` (:class:`thymosim.regimen.Dose`) starts at the steady state that
repeated doses every ``ii`` days would reach. :func:`pk_system` finds the drug's PK sub-system in
the compiled model and checks that it is linear and independent of the rest of the model;
:meth:`PKSystem.periodic_state` gives its states at steady state at a phase of the dosing interval,
from matrix exponentials. Amounts are model amounts; times are days.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from thymosim.model import Drug, Model


@dataclass(frozen=True)
class PKSystem:
    """A drug's linear, autonomous PK sub-system dx/dt = J x + entry * infusion rate (:func:`pk_system`)."""

    drug: Drug
    """The drug whose doses enter it."""
    states: list[str]
    """State ids of the sub-system (amounts)."""
    jacobian: np.ndarray
    """J [1/day]: d(rates of change)/d(states), states x states."""
    entry: np.ndarray | None
    """d(states)/dt per unit infusion rate; None when the drug has no infusion input."""

    def periodic_state(self, amount: float, ii: float, dur: float = 0.0,
                       theta: float | None = None) -> dict[str, float]:
        """The states, by id, a time ``theta`` (default ``ii``: just before the next dose) after an
        administration of ``amount`` (model amount; a bolus into the drug's target, or an infusion over
        ``dur`` days) at the periodic steady state of one administration every ``ii`` days.

        The state a time theta after one administration is z(theta) = exp(J (theta - dur)) * (bolus:
        the amount into its target; infusion: the integral over dur of exp(J s) entry rate, from an
        augmented matrix exponential), and at steady state the state at that phase is the sum over all
        earlier administrations, sum_m Phi^m z(theta) = (I - Phi)^-1 z(theta), Phi = exp(J ii) the
        transition matrix over one interval. Matrix exponentials rather than simulated intervals: exact
        for a linear system, independent of the solver's tolerances (a trough of 1e-10 of the dose
        stays accurate), and about a millisecond. Raises ValueError (field ``dur``) for an infusion of
        a drug without an infusion input."""
        from scipy.linalg import expm, solve

        theta = ii if theta is None else theta
        jac, k = self.jacobian, len(self.states)
        if dur > 0:
            if self.entry is None:
                raise ValueError(f"dur: {self.drug.name} has no infusion input; allowed: dur = 0 with ss")
            augmented = np.zeros((k + 1, k + 1))
            augmented[:k, :k], augmented[:k, k] = jac, self.entry * amount / dur
            start = expm(augmented * dur)[:k, k]  # state at the end of one infusion, from zero
        else:
            start = np.zeros(k)
            start[self.states.index(self.drug.target)] = amount
        z = expm(jac * (theta - dur)) @ start
        phi = expm(jac * ii)
        state = solve(np.eye(k) - phi, z)
        return {sid: float(x) for sid, x in zip(self.states, state, strict=True)}


def pk_system(model: Model, drug: Drug, values: Mapping[str, float]) -> PKSystem:
    """The drug's PK sub-system in ``model`` with parameter ``values``, found and checked numerically
    from the compiled model (no rate law here): a :class:`PKSystem` ``(states, J, entry)``. ``states``: the state ids
    connected by mass flow through reactions (stoichiometry) to the drug's bolus target or to the
    states its infusion input feeds (an SC depot and the central amount, whichever route doses), less
    pure accumulators (cumulative eliminated amounts, which nothing depends on and which never
    decay); ``J`` [1/day]: their Jacobian, by finite differences
    of roadrunner's rates of change (exact for a linear system up to rounding); ``entry``: d(states)/dt
    per unit infusion rate (None without an infusion input). Raises ValueError (field ``ss``) unless
    the sub-system is linear and independent of the rest of the model: its rates depend on no
    other state, and are affine in its own states over a dose-sized range."""
    rr = model.reset(values)
    mod = rr.model
    rates = lambda: np.asarray(rr.getRatesOfChange(), float)  # noqa: E731
    f0 = rates()
    ids = [mod.getStateVectorId(i) for i in range(len(f0))]
    x0 = np.array([rr.getValue(i) for i in ids])
    allowed = "allowed: ss only for a drug whose PK is linear and independent of the rest of the model (e.g. " \
              "thymalfasin, cisplatin)"
    entries: set[str] = set()
    if drug.target in ids:
        entries.add(drug.target)
    elif drug.target:
        raise ValueError(f"ss: {drug.name} is dosed into {drug.target}, not a state of the model; {allowed}")
    entry = None
    if drug.rate:
        base = rr.getValue(drug.rate)
        rr.setValue(drug.rate, base + 1.0)
        entry = rates() - f0
        rr.setValue(drug.rate, base)
        entries |= {ids[i] for i in np.flatnonzero(entry)}
    stoich = rr.getFullStoichiometryMatrix()
    n = np.asarray(stoich)
    row = {s: i for i, s in enumerate(stoich.rownames)}
    reached, frontier = set(entries), list(entries)
    while frontier:
        s = frontier.pop()
        if s not in row:
            continue
        for r in np.flatnonzero(n[row[s]]):
            for p in np.flatnonzero(n[:, r]):
                if stoich.rownames[p] not in reached:
                    reached.add(stoich.rownames[p])
                    frontier.append(stoich.rownames[p])
    def jacobian(x: np.ndarray) -> np.ndarray:
        for sid, v in zip(ids, x, strict=True):
            rr.setValue(sid, v)
        f, out = rates(), np.empty((len(ids), len(ids)))
        for j, sid in enumerate(ids):
            h = 1e-3 * max(abs(x[j]), 1.0)
            rr.setValue(sid, x[j] + h)
            out[:, j] = (rates() - f) / h
            rr.setValue(sid, x[j])
        return out

    jac = jacobian(x0)
    index = {s: i for i, s in enumerate(ids)}
    pk = [index[s] for s in ids if s in reached and (jac[:, index[s]].any())]
    if not pk or not entries <= {ids[i] for i in pk}:
        raise ValueError(f"ss: {drug.name} enters no decaying state of the model; {allowed}")
    rest = [i for i in range(len(ids)) if i not in pk]
    block = jac[np.ix_(pk, pk)]
    scale = np.abs(block).max()
    loaded = x0.copy()
    loaded[pk] += 1e2 * np.maximum(np.abs(x0[pk]), 1.0)
    for at in (jac, jacobian(loaded)):  # with and without drug: a coupling such as clearance x ANC is 0 at 0
        coupling = np.abs(at[np.ix_(pk, rest)])
        if coupling.max(initial=0.0) > 1e-9 * scale:
            others = sorted({ids[rest[j]] for j in np.flatnonzero(coupling.max(axis=0) > 1e-9 * scale)})
            raise ValueError(f"ss: the states {drug.name} feeds ({', '.join(ids[i] for i in pk)}) depend on other "
                             f"states ({', '.join(others[:5])}); {allowed}")
    for sid, v in zip(ids, x0, strict=True):
        rr.setValue(sid, v)
    for amplitude in (1e-2, 1e4):  # affine over a dose-sized range: no saturable step
        step = amplitude * np.maximum(np.abs(x0[pk]), 1.0)
        for k, i in enumerate(pk):
            rr.setValue(ids[i], x0[i] + step[k])
        change = rates()[pk] - f0[pk]
        for i in pk:
            rr.setValue(ids[i], x0[i])
        expected = block @ step
        if not np.allclose(change, expected, rtol=1e-6, atol=1e-9 * scale * np.abs(step).max()):
            raise ValueError(f"ss: the PK of {drug.name} ({', '.join(ids[i] for i in pk)}) is not linear in its "
                             f"amounts (saturable); {allowed}")
    return PKSystem(drug, [ids[i] for i in pk], block, None if entry is None else entry[pk])
