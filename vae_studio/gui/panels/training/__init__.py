"""The training panel: settings declared in form.py, the run in job.py, the data set chooser in dataset_chooser.py,
and the panel that joins them in panel.py."""

from .job import RunOutcome
from .panel import TrainingPanel

__all__ = ["RunOutcome", "TrainingPanel"]
