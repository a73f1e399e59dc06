#!/usr/bin/env bash
# A multi-process deployment on this machine (2 web, 2 workers, a fresh PostgreSQL database,
# Redis, 2 Rasa replicas), measured with bench/e2e_mix.py, then stopped with nothing left.
# Options go to bench/multiprocess.py (--quick, --postgres URL, --redis URL, -- e2e options).
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python bench/multiprocess.py "$@"
