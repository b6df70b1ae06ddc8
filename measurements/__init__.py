"""Measurements and agreement: a pure geometry/statistics layer plus stored results."""
