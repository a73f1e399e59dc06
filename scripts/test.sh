#!/usr/bin/env bash
# The whole suite: trains the NLU model if data changed (cached by hash), then pytest.
# PostgreSQL is exercised whenever LINLI_TEST_DATABASE_URL is set; when it is not and a
# server answers on 127.0.0.1:5432, it is set here so both SQLite and PostgreSQL run.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -z "${LINLI_TEST_DATABASE_URL:-}" ]]; then
    if .venv/bin/python - <<'PY'
import socket, sys
s = socket.socket()
s.settimeout(1)
sys.exit(0 if s.connect_ex(("127.0.0.1", 5432)) == 0 else 1)
PY
    then
        export LINLI_TEST_DATABASE_URL="postgresql+asyncpg://postgres@127.0.0.1:5432/test"
        echo "linli: PostgreSQL found; the suite runs on SQLite and PostgreSQL"
    else
        echo "linli: no PostgreSQL on 127.0.0.1:5432; the suite runs on SQLite only"
    fi
fi

bash scripts/setup-browser.sh
.venv/bin/linli nlu train
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
