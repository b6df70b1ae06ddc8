"""The Django project package: settings, URLs, ASGI application and routing."""
