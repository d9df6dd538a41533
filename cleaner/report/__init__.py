"""A run's report: the model, its renderings, and the files it is written to."""
