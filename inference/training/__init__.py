"""Training, export and evaluation of the shipped models with torch (no Django imports)."""
