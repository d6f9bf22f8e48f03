#!/usr/bin/env bash
# Creates the Secrets the aiorch manifests read, with fresh random values, in one namespace.
#
#   deploy/kubernetes/create-secrets.sh --overlay dev|prod [--namespace aiorch] [--dry-run]
#
# A Secret that already exists is left alone (regenerating the model keys would make every stored
# API key unreadable, a new signing key would end every session): delete it first to replace it.
# --dry-run prints the Secrets as YAML instead of creating them (nothing is sent anywhere).
# Needs kubectl and openssl. What each Secret holds: docs/deploy.md, "Secrets".
set -euo pipefail

overlay="" namespace="aiorch" dry_run=0
while (($#)); do
	case "$1" in
	--overlay) overlay="$2"; shift 2 ;;
	--namespace) namespace="$2"; shift 2 ;;
	--dry-run) dry_run=1; shift ;;
	*) echo "usage: $0 --overlay dev|prod [--namespace NAME] [--dry-run]" >&2; exit 2 ;;
	esac
done
case "$overlay" in
dev) pg_host="postgres" ;;         # overlays/dev/postgres.yaml
prod) pg_host="aiorch-pg-rw" ;;    # the CloudNativePG Cluster aiorch-pg's read-write Service
*) echo "$0: --overlay dev or --overlay prod" >&2; exit 2 ;;
esac

umask 077
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

password() { openssl rand -hex 24; }   # URL-safe: no escaping in the database URLs
# {"current": id, "keys": {id: base64 of 32 bytes}}: the key file format of shared.crypto.key_file
key_file() {
	local id="k$(openssl rand -hex 6)"
	printf '{"current": "%s", "keys": {"%s": "%s"}}\n' "$id" "$id" "$(openssl rand -base64 32)" >"$1"
}

secret() { # NAME ARGS... (kubectl create secret generic's --from-literal / --from-file / --type)
	local name="$1"
	shift
	if ((dry_run)); then
		echo "---"
		kubectl create secret generic "$name" --namespace "$namespace" "$@" --dry-run=client -o yaml
	elif kubectl get secret "$name" --namespace "$namespace" >/dev/null 2>&1; then
		echo "secret $name exists: kept" >&2
	else
		kubectl create secret generic "$name" --namespace "$namespace" "$@" >/dev/null
		echo "secret $name created" >&2
	fi
}

admin_password="$(password)"
admin_url="postgresql://postgres:${admin_password}@${pg_host}:5432/aiorch"
if [[ "$overlay" == prod ]]; then
	# CloudNativePG sets the postgres role's password from it (spec.superuserSecret)
	secret aiorch-postgres-superuser --type kubernetes.io/basic-auth \
		--from-literal=username=postgres --from-literal="password=$admin_password"
	secret aiorch-postgres-admin --from-literal="admin-url=$admin_url"
else
	secret aiorch-postgres-admin --from-literal="admin-url=$admin_url" --from-literal="password=$admin_password"
fi

for service in identity chat orchestrator; do
	service_password="$(password)"
	secret "aiorch-$service" \
		--from-literal="database-url=postgresql://${service}:${service_password}@${pg_host}:5432/aiorch" \
		--from-literal="database-password=$service_password"
done

openssl genpkey -algorithm ed25519 -out "$work/signing-key.pem" 2>/dev/null
secret aiorch-identity-keys --from-file="signing-key.pem=$work/signing-key.pem"
secret aiorch-metrics --from-literal="token=$(openssl rand -hex 32)"
key_file "$work/model-seal-key.json"
secret aiorch-model-seal-key --from-file="model-seal-key.json=$work/model-seal-key.json"
key_file "$work/model-keys.json"
secret aiorch-orchestrator-model-keys --from-file="model-keys.json=$work/model-keys.json"
