-- Roles for PartnerHub: run once per server as a superuser, with psql variables
--   owner_password, app_password  (empty strings are fine where the server trusts local users)
-- The owner owns the schema and runs migrations; the app role only reads and writes rows,
-- under row-level security (not superuser, no BYPASSRLS, owns nothing).
SELECT 'CREATE ROLE partnerhub_owner LOGIN CREATEDB NOSUPERUSER NOBYPASSRLS'
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'partnerhub_owner') \gexec
SELECT 'CREATE ROLE partnerhub_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE'
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'partnerhub_app') \gexec
ALTER ROLE partnerhub_owner PASSWORD :'owner_password';
ALTER ROLE partnerhub_app PASSWORD :'app_password';
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
