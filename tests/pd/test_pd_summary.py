"""The PD result's summary and JSON report, and the three-panel PK/PD figure."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from benzokit import TimeGrid, load_drug, parse_regimen, simulate
from benzokit.errors import InputError, UnknownNameError
from benzokit.pd import PDResult, ToleranceModelName
from benzokit.pd.params import load_pd_parameters
from benzokit.pd.result import PD_ARRAYS, describe_pd_model
from benzokit.sim import SimulationResult
from benzokit.sim.pd import simulate_pd
from benzokit.viz import pd_figure, plot_pd

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def run() -> tuple[SimulationResult, PDResult]:
    """Clonazepam 1 mg bid for 3 weeks, then 10 days without (hourly output)."""
    drug = load_drug("clonazepam")
    pk = simulate(drug, parse_regimen("1 mg bid x 21 days"), grid=TimeGrid.days(31, 1.0))
    return pk, simulate_pd(pk, drug)


@pytest.fixture
def figure(run: tuple[SimulationResult, PDResult]) -> Iterator[Figure]:
    pk, pd = run
    fig = pd_figure(pk, pd, load_drug("clonazepam"))
    yield fig
    plt.close(fig)


def test_summary_is_read_off_the_trajectories(run: tuple[SimulationResult, PDResult]) -> None:
    pk, pd = run
    summary = pd.summarize(pk.time_h)
    peak = int(np.argmax(pd.withdrawal_index))
    assert summary.peak_withdrawal_index == pd.withdrawal_index[peak] > 0
    assert summary.peak_withdrawal_time_h == pk.time_h[peak]
    assert summary.peak_withdrawal_time_h > 21 * 24.0  # after the last dose (day 20, 20:00)
    assert summary.final_adaptation == pd.adaptation[-1]
    assert summary.max_occupancy == pd.occupancy.max()
    assert set(summary.to_dict()) == {
        "peak_withdrawal_index", "peak_withdrawal_time_h", "final_adaptation", "max_occupancy",
    }  # fmt: skip


def test_summary_refuses_another_grid(run: tuple[SimulationResult, PDResult]) -> None:
    pk, pd = run
    with pytest.raises(InputError, match="times of the simulation") as caught:
        pd.summarize(pk.time_h[:-1])
    assert caught.value.field == "time_h"


def test_arrays_are_the_named_trajectories(run: tuple[SimulationResult, PDResult]) -> None:
    pk, pd = run
    arrays = pd.arrays()
    assert tuple(arrays) == PD_ARRAYS
    assert arrays["withdrawal_index"] is pd.withdrawal_index
    assert all(values.shape == pk.time_h.shape for values in arrays.values())


def test_report_describes_the_model_that_ran(run: tuple[SimulationResult, PDResult]) -> None:
    pk, pd = run
    report = pd.report(pk.time_h)
    assert report["occupancy_set"] == pd.occupancy_set == load_pd_parameters().default_occupancy_set
    assert report["c50_unbound_ng_ml"] == pd.c50_unbound_ng_ml
    assert report["tolerance_model"] == pd.tolerance_model == "moderator"
    assert report["summary"] == pd.summarize(pk.time_h).to_dict()


@pytest.mark.parametrize("tolerance", list(ToleranceModelName))
def test_every_figure_of_the_description_is_sourced(tolerance: ToleranceModelName) -> None:
    params = load_pd_parameters()
    for name in params.occupancy_sets:
        described = describe_pd_model(name, tolerance)
        records = [
            described["anchor"]["daily_dose_mg"],
            described["anchor"]["occupancy"],
            *described["effect"],
            *described["tolerance"]["parameters"],
        ]
        for record in records:
            source = params.sources[record["source_key"]]
            assert record["source"] == source.citation
            assert record["assumption"] == (source.kind == "assumption")
        assert described["tolerance"]["source_key"] in params.sources


def test_describing_an_unknown_set_names_the_known_ones() -> None:
    with pytest.raises(UnknownNameError, match="fujita1999"):
        describe_pd_model("nosuchset", ToleranceModelName.MODERATOR)


def test_pd_figure_has_three_panels_on_one_time_axis(figure: Figure) -> None:
    conc, occupancy, tolerance = figure.axes
    assert len(figure.axes) == 3
    assert conc.get_shared_x_axes().joined(conc, tolerance)
    assert occupancy.get_shared_x_axes().joined(occupancy, tolerance)
    assert tolerance.get_xlabel() == "time (days)"  # 31 days > 3 days
    assert tolerance.get_xlim() == pytest.approx((0.0, 31.0))
    assert conc.get_ylabel() == "plasma concentration (ng/mL)"
    assert occupancy.get_ylim() == (0.0, 1.0)
    assert conc.get_title(loc="left").startswith("(a) plasma concentration")
    assert occupancy.get_title(loc="left").startswith("(b) occupancy and effect")
    assert tolerance.get_title(loc="left").startswith("(c) adaptation and withdrawal index")
    labels = {line.get_label() for ax in figure.axes for line in ax.get_lines()}
    assert {"GABA-A site occupancy", "adaptation (tolerance)", "last dose"} <= labels
    assert any(str(label).startswith("withdrawal index (peak") for label in labels)
    assert any(text.get_text().startswith("benzokit is decision support") for text in figure.texts)
    assert "Clonazepam: 1 mg bid x 21 days" in figure.get_suptitle()


def test_plot_pd_writes_a_png(run: tuple[SimulationResult, PDResult], tmp_path: Path) -> None:
    pk, pd = run
    path = plot_pd(pk, pd, load_drug("clonazepam"), tmp_path / "sub" / "pd.png")
    assert path.read_bytes()[:8] == PNG_MAGIC
