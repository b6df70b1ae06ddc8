"""Management commands of the measurements app."""
