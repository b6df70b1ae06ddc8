"""Reads of the annotation domain: models for the API, fetched and access-checked (access_*)."""
