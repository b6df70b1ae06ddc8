"""The study report: tables, charts and methods generated as a background task."""
