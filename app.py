"""Entry point: `flask --app app ...` and `gunicorn app:app`."""
from pcso import create_app

app = create_app()
