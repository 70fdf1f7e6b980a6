"""SBML in and out: :mod:`~thymosim.sbml.build` (Antimony modules + tables -> the committed flat
SBML), :mod:`~thymosim.sbml.units` (unit declarations), :mod:`~thymosim.sbml.comp` (hierarchical
export), :mod:`~thymosim.sbml.export` (scenarios as SBML events, COMBINE/OMEX with SED-ML, PEtab).

Import rule: this package imports the core modules only, never :mod:`thymosim.analysis`,
:mod:`thymosim.plots`, :mod:`thymosim.workflows` or :mod:`thymosim.cli`
(``tests/test_architecture.py``).
"""
