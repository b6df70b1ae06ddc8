"""Writes of the inference app: the model registry and pre-label jobs."""
