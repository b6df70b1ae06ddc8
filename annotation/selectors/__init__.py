"""Reads of the annotation domain, with permission checks in one place (access_*)."""
