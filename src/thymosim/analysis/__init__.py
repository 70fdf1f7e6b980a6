"""Analyses built on simulations: :mod:`~thymosim.analysis.endpoints`, parameter sweeps and the
public executor (:mod:`~thymosim.analysis.sweep`), local and global
:mod:`~thymosim.analysis.sensitivity`, :mod:`~thymosim.analysis.calibration`.

Import rule: this package imports the core modules only, never :mod:`thymosim.sbml`,
:mod:`thymosim.plots`, :mod:`thymosim.workflows` or :mod:`thymosim.cli`
(``tests/test_architecture.py``).
"""
