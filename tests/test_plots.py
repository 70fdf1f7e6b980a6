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
