"""The HTTP edge: request/response schemas and routes, composed by ``api.create_app``."""
