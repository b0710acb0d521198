"""`benzokit demo` (`make cli-demo`): writes a plot and the JSON of the simulation, and plans a taper."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from cli_support import PNG_MAGIC, Outcome, invoke_benzokit, normalise

from benzokit._disclaimer import DISCLAIMER

RunCli = Callable[..., Outcome]
DEMO_DAYS = 28


def test_demo_simulates_and_plans(run_cli: RunCli, tmp_path: Path) -> None:
    out = tmp_path / "demo" / "out"
    outcome = run_cli("demo", "--out", str(out), columns=1000)  # wide: long paths stay whole
    assert outcome.exit_code == 0, outcome.stderr
    assert outcome.stderr == ""
    assert "Traceback" not in outcome.stdout

    png = out / "clonazepam-2mg-day.png"
    data = png.read_bytes()
    assert data[:8] == PNG_MAGIC
    assert len(data) > 10_000

    payload = json.loads((out / "clonazepam-2mg-day.json").read_text())
    assert payload["drug"] == "clonazepam"
    assert payload["disclaimer"] == DISCLAIMER
    doses = payload["doses"]
    assert len(doses) == DEMO_DAYS * 2  # 1 mg twice daily for 4 weeks
    assert all(d["amount_mg"] == pytest.approx(1.0) for d in doses)
    times = np.asarray(payload["time_h"])
    conc = np.asarray(payload["conc_ng_ml"])
    assert len(conc) == len(times)
    assert times[-1] == pytest.approx(DEMO_DAYS * 24.0)
    assert np.all(conc >= 0)
    summary = payload["summary"]
    assert summary["cmin_last_24h_ng_ml"] <= summary["cavg_last_24h_ng_ml"] <= summary["cmax_ng_ml"]
    # After 4 weeks (over 16 half-lives of 30-40 h) the patient is at steady state: the last
    # two days look alike.
    day_27 = conc[(times >= 26 * 24) & (times < 27 * 24)]
    day_28 = conc[(times >= 27 * 24) & (times < 28 * 24)]
    np.testing.assert_allclose(day_28, day_27, rtol=0.01)

    plan = json.loads((out / "taper-plan.json").read_text())
    assert plan["drug"] == "clonazepam" and plan["strategy"] == "guideline"
    assert plan["parameters"]["start_daily_mg"] == pytest.approx(2.0)
    daily = [step["daily_dose_mg"] for step in plan["steps"]]
    assert daily == sorted(daily, reverse=True) and daily[0] < 2.0
    assert (out / "taper-handout.pdf").read_bytes().startswith(b"%PDF")
    assert b"BEGIN:VCALENDAR" in (out / "taper.ics").read_bytes()
    assert (out / "compare.png").read_bytes()[:8] == PNG_MAGIC

    text = normalise(outcome.stdout)
    assert f"plot written to {png}" in text
    assert f"JSON written to {out / 'clonazepam-2mg-day.json'}" in text
    assert normalise(DISCLAIMER) in text


def test_demo_out_must_be_a_folder(tmp_path: Path) -> None:
    a_file = tmp_path / "taken"
    a_file.write_text("a file, not a folder")
    outcome = invoke_benzokit(["demo", "--out", str(a_file)])
    assert outcome.exception is None
    assert outcome.exit_code == 2
    assert "--out" in outcome.stderr
    assert a_file.read_text() == "a file, not a folder"
