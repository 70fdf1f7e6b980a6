"""Figures: :mod:`~thymosim.plots.timecourse` (arms, dose markers, clinical points) and
:mod:`~thymosim.plots.sensitivity` (tornado, Morris, Sobol, heatmap, dose-response).

Import rule: core and :mod:`thymosim.analysis` only (``tests/test_architecture.py``); the workflows
(:mod:`thymosim.workflows`) run what these figures draw.
"""
