#!/usr/bin/env bash
# Gives the local PostgreSQL a certificate of its own (a throw-away CA, and a
# server certificate for localhost and 127.0.0.1 signed by it), turns TLS on,
# and adds a role that may only connect over TLS, so that the TLS tests can
# check both that a verified connection works and that a plain one is refused.
#
# Idempotent: a second run reuses the files and changes nothing. Needs to run
# as root (or as the server's owner) next to the server, with superuser access
# through `psql -h 127.0.0.1 -U postgres`.
#
# Prints the two variables the tests read (AUDIT_TEST_POSTGRES_TLS_URL and
# AUDIT_TEST_POSTGRES_TLS_CA) as `export` lines, for `eval`.
set -euo pipefail

dir=/var/lib/postgresql/audit-ci-tls
role=audit_tls_only
psql_admin() { psql -X -q -h 127.0.0.1 -U postgres -d postgres -Atc "$1"; }

mkdir -p "$dir"
if [ ! -s "$dir/server.crt" ] || ! openssl x509 -checkend 86400 -noout -in "$dir/server.crt" >/dev/null; then
    (
        cd "$dir"
        openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=audit CI test CA" \
            -keyout ca.key -out ca.pem 2>/dev/null
        # A second CA that signed nothing: verifying the server against it must fail.
        openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=audit CI unrelated CA" \
            -keyout wrong-ca.key -out wrong-ca.pem 2>/dev/null
        openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
            -keyout server.key -out server.csr 2>/dev/null
        printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > san.ext
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 \
            -extfile san.ext -out server.crt 2>/dev/null
        rm -f server.csr san.ext
    )
fi
owner=$(stat -c %U "$(psql_admin 'SHOW data_directory')")
chown "$owner" "$dir" "$dir"/*
chmod 600 "$dir"/*.key
chmod 644 "$dir"/*.pem "$dir/server.crt"

changed=0
set_setting() {
    if [ "$(psql_admin "SHOW $1")" != "$2" ]; then
        psql_admin "ALTER SYSTEM SET $1 = '$2'" >/dev/null
        changed=1
    fi
}
set_setting ssl_cert_file "$dir/server.crt"
set_setting ssl_key_file "$dir/server.key"
set_setting ssl on

# The role, refused without TLS: pg_hba.conf's first matching line decides.
psql_admin "DO \$\$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$role') THEN CREATE ROLE $role LOGIN; END IF; END \$\$" >/dev/null
hba=$(psql_admin 'SHOW hba_file')
line="hostnossl all $role all reject"
if ! grep -qxF "$line" "$hba"; then
    { echo "# audit CI: $role connects over TLS only"; echo "$line"; cat "$hba"; } > "$hba.new"
    cat "$hba.new" > "$hba"
    rm -f "$hba.new"
    changed=1
fi
if [ "$changed" = 1 ]; then
    psql_admin 'SELECT pg_reload_conf()' >/dev/null
    # The reload is asynchronous: wait until the server reports TLS on.
    for _ in $(seq 1 50); do
        [ "$(psql_admin 'SHOW ssl_cert_file')" = "$dir/server.crt" ] && break
        sleep 0.1
    done
fi

echo "export AUDIT_TEST_POSTGRES_TLS_URL=postgres://$role@localhost:5432/postgres"
echo "export AUDIT_TEST_POSTGRES_TLS_CA=$dir/ca.pem"
