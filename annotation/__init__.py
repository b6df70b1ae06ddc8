"""Projects, label templates, cases/series/images and ingest, reads and revisions, live updates."""
