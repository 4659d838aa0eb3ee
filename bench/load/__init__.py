"""`make load`: the app under gunicorn on enlarged demo data, driven by locust (see run.py)."""
