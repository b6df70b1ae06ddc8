"""JSON API views: one class per operation, thin, calling services and selectors."""
