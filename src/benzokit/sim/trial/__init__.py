"""In-silico trials: a TOML spec, chunked runs (serial or Dask), Parquet results, summaries and plots."""

from benzokit.sim.trial.runner import TrialRun, run_trial
from benzokit.sim.trial.spec import TrialSpec, load_trial_spec

__all__ = ["TrialRun", "TrialSpec", "load_trial_spec", "run_trial"]
