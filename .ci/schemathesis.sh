#!/usr/bin/env bash
# Schemathesis against the served OpenAPI document, on a fresh SQLite
# database and then a fresh PostgreSQL database, each loaded with the demo.
# Fails on any 5xx and on any answer that does not conform to the document.
#
#   bash .ci/schemathesis.sh                  # both engines
#   ENGINES=sqlite bash .ci/schemathesis.sh   # one engine
#
# PostgreSQL from CELLTRAIL_TEST_PG_URL (default: the local server). The
# debug binary is built unless CELLTRAIL_BIN names one. Schemathesis goes
# into a virtualenv under target/ (SCHEMATHESIS_VENV to move it).
# Bounded: a few examples per operation and a time limit per engine, so the
# whole script stays within a few minutes on two cores.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
MAX_EXAMPLES="${MAX_EXAMPLES:-10}"
MAX_TIME="${MAX_TIME:-150}"
ENGINES="${ENGINES:-sqlite postgres}"
PG_URL="${CELLTRAIL_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
VENV="${SCHEMATHESIS_VENV:-target/schemathesis-venv}"
ADMIN_PASSWORD="admin-password-for-schemathesis"

if [ ! -x "$VENV/bin/st" ] || ! "$VENV/bin/st" --version | grep -q "$SCHEMATHESIS_VERSION"; then
    echo "installing schemathesis $SCHEMATHESIS_VERSION into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
"$VENV/bin/st" --version

if [ -z "${CELLTRAIL_BIN:-}" ]; then
    cargo build --quiet
    CELLTRAIL_BIN=target/debug/celltrail
fi

scratch="$(mktemp -d "${TMPDIR:-/tmp}/celltrail-schemathesis-XXXXXX")"
server=""
pg_db=""
cleanup() {
    if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
    if [ -n "$pg_db" ]; then psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" || true; fi
    rm -rf "$scratch"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

run_engine() {
    local engine="$1" database_url dir port base started
    dir="$scratch/$engine"
    mkdir -p "$dir"
    case "$engine" in
        sqlite) database_url="sqlite://$dir/celltrail.db?mode=rwc" ;;
        postgres)
            pg_db="celltrail_schemathesis_$$"
            psql "$PG_URL" -qc "CREATE DATABASE $pg_db"
            database_url="${PG_URL%/*}/$pg_db"
            ;;
        *) echo "unknown engine $engine" >&2; return 1 ;;
    esac
    port="$(free_port)"
    base="http://127.0.0.1:$port"

    printf '\n==> schemathesis on %s\n' "$engine"
    started=$(date +%s)
    DATABASE_URL="$database_url" \
    CELLTRAIL_BIND="127.0.0.1:$port" \
    CELLTRAIL_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
    CELLTRAIL_LEDGER_KEY_FILE="$dir/ledger.key" \
    CELLTRAIL_CHECKPOINT_DIR="$dir/checkpoints" \
    CELLTRAIL_TIMEZONE=Asia/Shanghai \
    RUST_LOG="${RUST_LOG:-warn}" \
        "$CELLTRAIL_BIN" serve --demo >"$dir/server.out" 2>"$dir/server.err" &
    server=$!
    for _ in $(seq 1 600); do
        if grep -q "Sign in as" "$dir/server.out" && curl -sf "$base/readyz" >/dev/null; then break; fi
        if ! kill -0 "$server" 2>/dev/null; then
            cat "$dir/server.out" "$dir/server.err" >&2
            echo "celltrail did not start on $engine" >&2
            return 1
        fi
        sleep 0.5
    done
    echo "demo loaded in $(( $(date +%s) - started )) s"

    python3 .ci/schemathesis_config.py "$base" "$dir/schemathesis.toml" "$ADMIN_PASSWORD"

    local status=0 checks="not_a_server_error,response_schema_conformance"
    # The token for signing out, taken now: the fuzzing signs in with wrong
    # passwords from this address, and the sign-in throttle then (rightly)
    # slows every sign-in from it down.
    local token
    token="$(curl -sf "$base/api/v1/auth/login" -H 'content-type: application/json' \
        -d '{"username":"clinician.demo","password":"demo-clinician-password"}' |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')"
    started=$(date +%s)
    # Every operation but signing out, each with a role it admits.
    "$VENV/bin/st" --no-color --config-file "$dir/schemathesis.toml" run "$base/api/openapi.json" \
        --checks "$checks" --phases examples,coverage,fuzzing \
        --max-examples "$MAX_EXAMPLES" --max-time "$MAX_TIME" --workers 2 \
        --exclude-operation-id logout --request-timeout 30 \
        --report junit --report-dir "$dir/report" || status=$?
    # Signing out last, on a token of its own: it ends the token it is sent with.
    if [ "$status" -eq 0 ]; then
        "$VENV/bin/st" --no-color run "$base/api/openapi.json" \
            --checks "$checks" --phases examples,coverage,fuzzing \
            --max-examples "$MAX_EXAMPLES" --include-operation-id logout \
            -H "Authorization: Bearer $token" || status=$?
    fi
    echo "schemathesis on $engine: $(( $(date +%s) - started )) s"
    if grep -q "panicked" "$dir/server.err"; then
        grep -B2 -A5 "panicked" "$dir/server.err" >&2
        status=1
    fi

    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    server=""
    if [ -n "$pg_db" ]; then
        psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)"
        pg_db=""
    fi
    return "$status"
}

for engine in $ENGINES; do
    run_engine "$engine"
done
echo "schemathesis: no server error and every answer conforms, on: $ENGINES"
