"""The time-course figure reads as a clinician needs: one colour per arm everywhere, T-cell axes
scaled to the data (not to a distant healthy band), readable titles, every drug's doses shown."""

import matplotlib.colors as mcolors

from thymosim.plots.timecourse import arm_colours, plot_arms
from thymosim.scenario import named


def test_the_arms_keep_their_colour_and_the_t_cell_axes_fit_the_data():
    scenarios = [named("cisplatin_vinorelbine"), named("cisplatin_vinorelbine_ta1")]
    arms = {s.name: s.simulate(step=1.0) for s in scenarios}
    fig = plot_arms(arms, "test", regimens={s.name: s.regimen for s in scenarios})
    axes = {ax.get_title(): ax for ax in fig.axes}
    colours = arm_colours(arms)
    for title in ("CD3 T cells", "CD4 T cells", "Tumour diameter", "Interleukin-2"):
        lines = axes[title].get_lines()
        assert [mcolors.to_hex(line.get_color()) for line in lines[:2]] == list(colours.values()), title
    top = axes["CD4 T cells"].get_ylim()[1]
    data_max = max(df.CD4.max() for df in arms.values())
    assert data_max < top < 1.3 * data_max  # was 0-2100: the healthy band (575-1100) set the axis
    assert "healthy range 575" in " ".join(t.get_text() for t in axes["CD4 T cells"].texts)
    doses = axes["Administrations"]
    assert [t.get_text() for t in doses.get_yticklabels()] == ["cisplatin", "thymalfasin", "vinorelbine"]
    assert doses.get_xlim()[0] < 0  # the day-0 doses are inside the axis


def test_the_pk_panel_is_event_exact_and_the_percent_view_is_relative_to_baseline():
    """With a dense re-simulation the 3.2 mg loading peaks reach their analytic height (the 6-hourly
    samples miss them); the % view puts every panel but the PK one relative to the arm's baseline."""
    import numpy as np
    import pytest
    from pk_closed_form import cmax_after, table_pk

    from thymosim.analysis.exposure import pk_course

    scenario = named("prag_ta1_loading")
    arms = {scenario.name: scenario.simulate(step=0.25)}
    ka, ke, v, c_endo = table_pk()
    cmax = cmax_after([(3200.0, 0.0)], 0.0, ka, ke, v) + c_endo

    def pk_axis(fig):
        return next(ax for ax in fig.axes if ax.get_title().startswith("Plasma thymalfasin"))

    sampled = pk_axis(plot_arms(arms, "sampled"))
    assert max(line.get_ydata().max() for line in sampled.get_lines()) < 0.5 * cmax
    fig = plot_arms(arms, "dense", pk={scenario.name: pk_course(scenario, days=14)}, pk_days=14, pk_log=True)
    ax = pk_axis(fig)
    x, y = ax.get_lines()[0].get_data()
    first = np.asarray(x) < 1
    assert np.asarray(y)[first].max() == pytest.approx(cmax, rel=0.01)
    assert ax.get_yscale() == "log" and ax.get_xlim() == (0, 14) and "event-exact" in ax.get_title()

    relative = plot_arms(arms, "relative", relative=True)
    axes = {a.get_title(): a for a in relative.axes}
    cd4 = axes["CD4 T cells"]
    assert cd4.get_ylabel() == "% change from baseline"
    assert cd4.get_lines()[0].get_ydata()[0] == pytest.approx(0.0)
    assert any(np.allclose(line.get_ydata(), 0.0) for line in cd4.get_lines()[1:])  # the 0 % line
    assert pk_axis(relative).get_ylabel() == "ng/mL"


def test_arms_are_aligned_on_the_shared_treatment_named_by_title_and_flat_panels_left_out():
    """The loading arm's PRaG starts on day 7: shifted so that PRaG starts on day 0 in every arm;
    ANC (no chemotherapy) is constant and named instead of drawn; legends show scenario titles."""
    from thymosim.plots.timecourse import alignment

    scenarios = [named("prag"), named("prag_ta1_loading")]
    regimens = {s.name: s.regimen for s in scenarios}
    shifts, shared = alignment(regimens)
    assert shifts == {"prag": 0.0, "prag_ta1_loading": 7.0} and "radiotherapy" in shared
    arms = {s.name: s.simulate(step=1.0) for s in scenarios}
    fig = plot_arms(arms, "aligned", regimens=regimens, labels={s.name: s.label for s in scenarios})
    axes = {ax.get_title(): ax for ax in fig.axes}
    assert "Neutrophils (ANC)" not in axes and "Neutrophils (ANC)" in fig._suptitle.get_text()
    tumour = axes["Tumour diameter"]
    assert tumour.get_xlim()[0] == -7.0
    assert tumour.get_lines()[1].get_xdata()[0] == -7.0
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend[:2] == [named("prag").title, named("prag_ta1_loading").title] and all(legend[:2])


def test_sweep_and_morris_figures_name_the_drug_and_unit_and_labels_do_not_overlap():
    import numpy as np
    import pandas as pd

    from thymosim.plots.sensitivity import heatmap, label, morris_plot

    scenario = named("cisplatin_vinorelbine_ta1")
    index = next(k for k, d in enumerate(scenario.regimen.doses) if str(d.drug) == "thymalfasin")
    factor = f"doses[{index}].amt"
    assert label(factor, scenario=scenario) == f"thymalfasin, dose record {index + 1}: amount [mg]"
    table = pd.DataFrame([{"run": r, "endpoint": "auc_CD4", f"factor:{factor}": a, "factor:PK_CL": c, "value": a + c}
                          for r, (a, c) in enumerate([(0.8, 60.0), (0.8, 120.0), (1.6, 60.0), (1.6, 120.0)])])
    ax = heatmap(table, factor, "PK_CL", "auc_CD4", scenario).axes[0]
    assert "thymalfasin" in ax.get_xlabel() and "[mg]" in ax.get_title() and "doses[" not in ax.get_title()
    rng = np.random.default_rng(1)
    names = [f"p{k}" for k in range(12)]
    mi = pd.DataFrame({"mu_star": rng.uniform(1, 1.1, 12), "sigma": rng.uniform(1, 1.1, 12), "mu_star_conf": 0.1},
                      index=names)
    fig = morris_plot(mi, "auc_CD4")
    ax = fig.axes[0]
    slots = sorted(t.xyann[1] for t in ax.texts)  # label positions, axes fraction, in a column right of the axes
    height = ax.get_window_extent().height * 72 / fig.dpi  # points
    assert len(slots) == 10 and min(np.diff(slots)) * height > 2 * ax.texts[0].get_fontsize()
    assert all(t.xyann[0] > 1 for t in ax.texts)
