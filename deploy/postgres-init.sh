#!/bin/sh
# Creates PartnerHub's roles (owner, app, read-only backup) and its database on the first start of the postgres:16 container
# (mounted into /docker-entrypoint-initdb.d by docker-compose.yml). The official image runs it
# once, while the data directory is empty, as the superuser over the local socket.
#
# deploy/roles.sql is idempotent, so after changing the passwords in .env this can be run again:
#   docker compose up -d postgres && docker compose exec postgres sh /docker-entrypoint-initdb.d/10-partnerhub.sh
: "${PARTNERHUB_OWNER_PASSWORD:?PARTNERHUB_OWNER_PASSWORD is not set (see deploy/.env.example)}"
: "${PARTNERHUB_APP_PASSWORD:?PARTNERHUB_APP_PASSWORD is not set (see deploy/.env.example)}"
: "${PARTNERHUB_BACKUP_PASSWORD:?PARTNERHUB_BACKUP_PASSWORD is not set (see deploy/.env.example)}"

psql -X -q -v ON_ERROR_STOP=1 \
    --username "${POSTGRES_USER:-postgres}" --dbname postgres \
    -v owner_password="$PARTNERHUB_OWNER_PASSWORD" \
    -v app_password="$PARTNERHUB_APP_PASSWORD" \
    -v backup_password="$PARTNERHUB_BACKUP_PASSWORD" \
    -f /partnerhub/roles.sql
