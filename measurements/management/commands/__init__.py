"""`manage.py measure` and friends."""
