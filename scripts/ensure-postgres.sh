#!/usr/bin/env bash
# The store tests run against SQLite and a real PostgreSQL. Make sure a PostgreSQL server runs on
# this machine with a test role that may create databases, and write its URL where the tests look
# (var/test-postgres.url). Installs Debian's postgresql when root; otherwise says what is missing.
# PMDESK_TEST_POSTGRES_URL (a role with CREATEDB) skips all of this.
set -euo pipefail
mkdir -p var
url_file=var/test-postgres.url
if [ -n "${PMDESK_TEST_POSTGRES_URL:-}" ]; then
  echo "$PMDESK_TEST_POSTGRES_URL" > "$url_file"
  exit 0
fi
if ! command -v pg_ctlcluster >/dev/null; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "installing Debian's postgresql for the store tests..."
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql
  else
    echo "error: the store tests need PostgreSQL: sudo apt-get install postgresql, or set" \
      "PMDESK_TEST_POSTGRES_URL to a role that may create databases" >&2
    exit 1
  fi
fi
if [ "$(id -u)" != "0" ]; then
  echo "error: starting PostgreSQL needs root here; or set PMDESK_TEST_POSTGRES_URL" >&2
  exit 1
fi
version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
pg_lsclusters -h | awk '{print $1, $2}' | grep -qx "$version main" || pg_createcluster "$version" main
pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" {print $4}' | grep -qx online \
  || pg_ctlcluster "$version" main start
port=$(pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" {print $3}')
su postgres -c "psql -q -p $port -v ON_ERROR_STOP=1" <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pmdesk_test') THEN
    CREATE ROLE pmdesk_test LOGIN CREATEDB PASSWORD 'pmdesk_test';
  END IF;
END $$;
SQL
echo "postgresql+psycopg://pmdesk_test:pmdesk_test@127.0.0.1:$port/postgres" > "$url_file"
