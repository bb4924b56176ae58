"""`patchwire batch`: every row of a dataset through a pipeline, resumable, locally or on Ray."""

from .runner import BatchError, ResultsFile, Row, Summary, percentile, read_dataset, run_local, summarize

__all__ = ["BatchError", "ResultsFile", "Row", "Summary", "percentile", "read_dataset", "run_local", "summarize"]
