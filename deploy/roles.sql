-- Roles for PartnerHub: run once per server as a superuser, with psql variables
--   owner_password, app_password, backup_password  (empty strings are fine where the server
--   trusts local users)
-- The owner owns the schema and runs migrations; the app role only reads and writes rows,
-- under row-level security (not superuser, no BYPASSRLS, owns nothing). The backup role only
-- reads, but every tenant's rows: pg_dump must see past row-level security (BYPASSRLS) and
-- read every table (pg_read_all_data); it can write nothing.
SELECT 'CREATE ROLE partnerhub_owner LOGIN CREATEDB NOSUPERUSER NOBYPASSRLS'
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'partnerhub_owner') \gexec
SELECT 'CREATE ROLE partnerhub_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE'
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'partnerhub_app') \gexec
SELECT 'CREATE ROLE partnerhub_backup LOGIN NOSUPERUSER BYPASSRLS NOCREATEDB NOCREATEROLE'
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'partnerhub_backup') \gexec
GRANT pg_read_all_data TO partnerhub_backup;
ALTER ROLE partnerhub_owner PASSWORD :'owner_password';
ALTER ROLE partnerhub_app PASSWORD :'app_password';
ALTER ROLE partnerhub_backup PASSWORD :'backup_password';
SELECT 'CREATE DATABASE partnerhub OWNER partnerhub_owner'
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'partnerhub') \gexec
\connect partnerhub
ALTER SCHEMA public OWNER TO partnerhub_owner;
GRANT USAGE ON SCHEMA public TO partnerhub_app;
ALTER DEFAULT PRIVILEGES FOR ROLE partnerhub_owner IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO partnerhub_app;
ALTER DEFAULT PRIVILEGES FOR ROLE partnerhub_owner IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO partnerhub_app;
ALTER DEFAULT PRIVILEGES FOR ROLE partnerhub_owner IN SCHEMA public
    GRANT EXECUTE ON FUNCTIONS TO partnerhub_app;
