"""The web app: composes every capability's routes into one FastAPI application."""
