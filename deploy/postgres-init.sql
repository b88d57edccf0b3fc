-- Development only: run once by the postgres image on an empty data directory
-- (docker-compose.yml mounts it into /docker-entrypoint-initdb.d/).
-- One database per service, so no service can read another's tables; in production each
-- service also gets its own role (see deploy/k8s/secret.yaml).
CREATE DATABASE initiatives OWNER inspraak;
CREATE DATABASE advisory OWNER inspraak;
CREATE DATABASE budgets OWNER inspraak;
CREATE DATABASE notifications OWNER inspraak;
