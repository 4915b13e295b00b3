"""The short chaos soak of `make test` (issue 32): two minutes of eight clients on the embedded set-up under
`licbench run`, a worker SIGKILLed and the API server SIGKILLed, then nothing lost, nothing duplicated and no 5xx
but the documented 503s (``benchmarks/soak.py`` prints the figures; no timings are asserted)."""
from __future__ import annotations

from benchmarks.soak import run_phase, soak_env


def test_two_minutes_with_two_faults_lose_and_duplicate_nothing(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    result = run_phase("short soak: embedded", soak_env(DATA_DIR=str(data_dir)), data_dir, 120, 8, seed=32,
                       every=(0, 0), kinds=(), schedule=[(40.0, "worker"), (80.0, "server")],
                       codec_names=("jpeg", "webp"))
    report = "\n".join(result.lines)
    assert "results lost: 0 " in report and "duplicated: 0" in report, report
    assert "5xx: 0 undocumented" in report and ", 0 unfinished" in report, report
    assert "uploads lost: 0 " in report and "study answers lost: 0 " in report, report
    assert result.ok, report
