"""REST API (FastAPI): ``create_app()``; one thin router per area."""

from suraksha.api.app import create_app

__all__ = ["create_app"]
