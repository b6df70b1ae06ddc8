"""Writes of the annotation domain. Each service is keyword-only, typed and atomic."""
