"""Errors of the measurement layer: what is missing from, or wrong with, the user's shapes."""

from __future__ import annotations

from collections.abc import Iterable


class MeasurementError(ValueError):
    """Base class: a measurement cannot be made from the given shapes."""


class MissingInput(MeasurementError):  # noqa: N818 (the name the callers use)
    """Shapes a measurement needs are absent; `missing` names each of them."""

    def __init__(self, missing: Iterable[str]) -> None:
        self.missing: tuple[str, ...] = tuple(missing)
        super().__init__("missing " + "; ".join(self.missing))


class InvalidInput(MeasurementError):  # noqa: N818
    """Shapes are present but unusable (degenerate, non-finite, wrong point count)."""
