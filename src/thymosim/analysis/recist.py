"""RECIST 1.1 in the analysis layer: the one classifier lives in :mod:`thymosim.recist` (a core
module, so that a count-guided rule can fire on progression); this module gives the analyses,
plots and users its names under ``thymosim.analysis.recist``."""

from thymosim.recist import (  # noqa: F401
    CLASSES,
    CONFIRM_AFTER_DAYS,
    CR_MM,
    DISEASE_CONTROL,
    OBJECTIVE_RESPONSE,
    PD_ABSOLUTE_MM,
    PD_CHANGE_PCT,
    PR_CHANGE_PCT,
    RULES,
    SD_MIN_DAY,
    Response,
    Rules,
    classify,
    classify_course,
    percent_change,
    scan_days,
    target_progressed,
    timepoint,
    with_rules,
)
