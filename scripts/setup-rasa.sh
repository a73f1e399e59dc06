#!/usr/bin/env bash
# Create or update the Rasa 3.6 virtualenv (Python 3.10) from nlu/requirements-rasa.txt.
#
#   LINLI_RASA_VENV    where the venv lives (default: <repo>/.venv-rasa)
#   LINLI_RASA_PYTHON  interpreter to build it with (default: newest ~/.pyenv 3.10, then python3.10)
#
# Idempotent: a stamp file holding the sha256 of the requirements makes a rerun a no-op.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${LINLI_RASA_VENV:-$ROOT/.venv-rasa}"
REQ="$ROOT/nlu/requirements-rasa.txt"
STAMP="$VENV/.linli-requirements.sha256"

want="$(sha256sum "$REQ" | cut -d' ' -f1)"
if [[ -f "$STAMP" && -x "$VENV/bin/rasa" && "$(cat "$STAMP")" == "$want" ]]; then
    echo "linli: Rasa venv up to date ($VENV)"
    exit 0
fi

ok_version() {  # ok_version PYTHON -> true when it is CPython 3.8-3.10
    "$1" -c 'import sys; sys.exit(0 if (3, 8) <= sys.version_info[:2] <= (3, 10) else 1)' \
        2>/dev/null
}

find_python() {
    if [[ -n "${LINLI_RASA_PYTHON:-}" ]]; then
        if ok_version "$LINLI_RASA_PYTHON"; then
            echo "$LINLI_RASA_PYTHON"
            return 0
        fi
        echo "linli: LINLI_RASA_PYTHON=$LINLI_RASA_PYTHON is not a Python 3.8–3.10" >&2
        return 1
    fi
    local candidate
    candidate="$(ls -d "$HOME"/.pyenv/versions/3.10.*/bin/python 2>/dev/null | sort -V | tail -n 1)"
    if [[ -n "$candidate" ]] && ok_version "$candidate"; then
        echo "$candidate"
        return 0
    fi
    if candidate="$(command -v python3.10)" && ok_version "$candidate"; then
        echo "$candidate"
        return 0
    fi
    return 1
}

# Reuse an existing venv whose interpreter is already suitable; otherwise (re)create it.
if [[ -x "$VENV/bin/python" ]] && ok_version "$VENV/bin/python"; then
    echo "linli: updating Rasa venv $VENV"
else
    if ! PY="$(find_python)"; then
        echo "linli: Rasa needs Python 3.8–3.10; set LINLI_RASA_PYTHON to such an interpreter" \
            "(none found in ~/.pyenv/versions/3.10.* or as python3.10 on PATH)" >&2
        exit 1
    fi
    echo "linli: creating Rasa venv $VENV with $PY"
    rm -rf "$VENV"
    "$PY" -m venv "$VENV"
fi

rm -f "$STAMP"
# The service venv must not leak into the Rasa one.
unset VIRTUAL_ENV PYTHONPATH PYTHONHOME
export PIP_DISABLE_PIP_VERSION_CHECK=1
set +e
"$VENV/bin/python" -m pip install --quiet -r "$REQ" 2>&1 \
    | grep -v -E "^WARNING: Location '.*' is ignored|DEPRECATION: .* legacy 'setup.py install'"
status="${PIPESTATUS[0]}"
set -e
if [[ "$status" -ne 0 ]] || ! "$VENV/bin/python" -c 'import rasa, jieba' 2>/dev/null; then
    echo "linli: installing Rasa into $VENV failed (see pip output above)" >&2
    exit 1
fi
"$VENV/bin/python" -m pip check >/dev/null 2>&1 \
    || echo "linli: warning: pip check reports conflicts in $VENV" >&2
echo "$want" > "$STAMP"
echo "linli: Rasa venv ready ($VENV)"
