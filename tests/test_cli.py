"""The main job writes its table and figure."""

import pandas as pd

from thymosim.cli import main


def test_run_writes_timecourse_csv_and_png(tmp_path):
    main(["run", "--out", str(tmp_path), "--horizon", "30", "--step", "0.5"])
    table = pd.read_csv(tmp_path / "timecourse.csv")
    assert set(table.arm) == {"cisplatin_vinorelbine", "cisplatin_vinorelbine_ta1"}
    assert len(table) == 2 * 61
    for col in ["time", "CD3", "CD4", "CD8", "NK", "IL2", "IFNg", "IL12", "M1_M2",
                "mature_DC_fraction", "ta1_plasma", "ANC", "tumour_diameter"]:
        assert col in table.columns
    png = (tmp_path / "timecourse.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 50_000
