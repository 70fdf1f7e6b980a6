"""The README's core install (`pip install .`, no extras) runs what the README shows next: the main
job with Parquet output and a streamed sweep (a fresh virtual environment; needs the package index,
as CI has)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


@pytest.mark.slow
def test_the_core_install_runs_the_main_job_with_parquet_and_a_sweep(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    bin_ = venv / ("Scripts" if sys.platform == "win32" else "bin")
    subprocess.run([str(bin_ / "python"), "-m", "pip", "install", "-q", str(ROOT)], check=True, timeout=900)
    thymosim = str(bin_ / "thymosim")
    subprocess.run([thymosim, "run", "--out", str(tmp_path / "results"), "--parquet", "--quiet"], check=True)
    for name in ("timecourse.csv", "timecourse.parquet", "endpoints.csv", "timecourse.png"):
        assert (tmp_path / "results" / name).stat().st_size > 0, name
    subprocess.run([thymosim, "sweep", "prag_ta1", "--factor", "doses[3].amt=0,1.6", "--out",
                    str(tmp_path / "sweep"), "--quiet"], check=True)
    assert list((tmp_path / "sweep").rglob("part-*.parquet"))
    # no extra was installed: the notebook and Dask extras are absent
    absent = subprocess.run([str(bin_ / "python"), "-c", "import distributed"], capture_output=True)
    assert absent.returncode != 0
