"""Progress and model-agreement dashboards: aggregates kept on domain events."""
