"""Workflows: what a command of the CLI does, as functions over the analyses and the figures.

Each module runs simulations or analyses and returns their tables (``*_table``/``run_*``), or writes
an output folder and returns the paths it wrote (``*_files``); the CLI (:mod:`thymosim.cli`) only
parses its options and calls these. Figures are drawn by :mod:`thymosim.plots`, never run there.

Import rule: core, :mod:`thymosim.sbml`, :mod:`thymosim.analysis`, :mod:`thymosim.plots` and
workflows (``tests/test_architecture.py``).
"""
