#!/usr/bin/env bash
# Checks an HTTPS deployment (seed 002's ./scripts/test-https.sh): the certificate served for
# DOMAIN (trusted, valid now, naming DOMAIN), the redirect from http://DOMAIN to HTTPS, /health
# over HTTPS with Strict-Transport-Security, and the Traefik dashboard asking for a password.
# DOMAIN, HTTP_PORT and HTTPS_PORT come from the environment, else from .env.
#   ./scripts/test-https.sh [--insecure] [--ca-file FILE] [--no-redirect] [--no-dashboard]
#   --insecure       accept a certificate no trusted CA signed (self-signed, Let's Encrypt staging)
#   --ca-file FILE   trust this CA as well (a private CA)
#   --no-redirect    skip the HTTP to HTTPS redirect (native TLS has no HTTP listener)
#   --no-dashboard   skip the dashboard check (native TLS, no Traefik)
# Exits non-zero when any check fails.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ENV_FILE="${ENV_FILE:-$ROOT/.env}"
insecure=0
ca_file=""
check_redirect=1
check_dashboard=1
while [ "$#" -gt 0 ]; do
  case "$1" in
    --insecure) insecure=1 ;;
    --ca-file)
      ca_file="${2:?--ca-file needs a file}"
      shift
      ;;
    --no-redirect) check_redirect=0 ;;
    --no-dashboard) check_dashboard=0 ;;
    -h | --help)
      sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "test-https.sh: unknown option $1 (see --help)" >&2
      exit 2
      ;;
  esac
  shift
done

from_env_file() {
  [ -f "$ENV_FILE" ] || return 0
  local line
  line="$(grep -E "^$1=" "$ENV_FILE" | tail -n 1 || true)"
  line="${line#*=}"
  line="${line%\"}"
  line="${line#\"}"
  printf '%s' "$line"
}

DOMAIN="${DOMAIN:-$(from_env_file DOMAIN)}"
HTTP_PORT="${HTTP_PORT:-$(from_env_file HTTP_PORT)}"
HTTPS_PORT="${HTTPS_PORT:-$(from_env_file HTTPS_PORT)}"
HTTP_PORT="${HTTP_PORT:-80}"
HTTPS_PORT="${HTTPS_PORT:-443}"
if [ -z "$DOMAIN" ]; then
  echo "test-https.sh: DOMAIN is not set (in the environment or $ENV_FILE); run ./scripts/setup-https.sh" >&2
  exit 2
fi

https_base="https://$DOMAIN"
[ "$HTTPS_PORT" = 443 ] || https_base="$https_base:$HTTPS_PORT"
http_base="http://$DOMAIN"
[ "$HTTP_PORT" = 80 ] || http_base="$http_base:$HTTP_PORT"

curl_tls=()
s_client_tls=()
if [ "$insecure" = 1 ]; then
  curl_tls+=(--insecure)
fi
if [ -n "$ca_file" ]; then
  curl_tls+=(--cacert "$ca_file")
  s_client_tls+=(-CAfile "$ca_file")
fi

failures=0
pass() { printf 'ok    %s\n' "$*"; }
fail() {
  printf 'FAIL  %s\n' "$*"
  failures=$((failures + 1))
}

echo "Checking $https_base (HTTP on port $HTTP_PORT, HTTPS on port $HTTPS_PORT)"

# 1. The certificate: fetched as a client sees it for DOMAIN (SNI), then read.
cert="$(openssl s_client -connect "$DOMAIN:$HTTPS_PORT" -servername "$DOMAIN" "${s_client_tls[@]}" </dev/null 2>/dev/null |
  openssl x509 2>/dev/null)"
if [ -z "$cert" ]; then
  fail "no certificate from $DOMAIN:$HTTPS_PORT (nothing listening, or not TLS)"
else
  subject="$(printf '%s\n' "$cert" | openssl x509 -noout -subject 2>/dev/null)"
  issuer="$(printf '%s\n' "$cert" | openssl x509 -noout -issuer 2>/dev/null)"
  not_after="$(printf '%s\n' "$cert" | openssl x509 -noout -enddate 2>/dev/null)"
  echo "      $subject; $issuer; ${not_after/notAfter=/valid until }"
  if printf '%s\n' "$issuer" | grep -q 'TRAEFIK DEFAULT CERT'; then
    fail "certificate: Traefik's default certificate, Let's Encrypt has not issued one yet (docker compose -f docker-compose.https.yml logs traefik)"
  elif ! printf '%s\n' "$cert" | openssl x509 -noout -checkend 0 >/dev/null 2>&1; then
    fail "certificate: expired"
  elif ! printf '%s\n' "$cert" | openssl x509 -noout -checkhost "$DOMAIN" 2>/dev/null | grep -q 'does match'; then
    fail "certificate: does not name $DOMAIN"
  else
    pass "certificate for $DOMAIN, valid now"
  fi
fi

# 2. The certificate chain as curl trusts it, and /health over HTTPS with HSTS.
headers="$(mktemp)"
body="$(mktemp)"
trap 'rm -f "$headers" "$body"' EXIT
code="$(curl -sS "${curl_tls[@]}" --max-time 15 -D "$headers" -o "$body" -w '%{http_code}' "$https_base/health" 2>"$body.err")"
if [ "$code" = 000 ]; then
  fail "GET $https_base/health: $(head -n 1 "$body.err")"
elif [ "$code" != 200 ]; then
  fail "GET $https_base/health answered $code: $(head -c 300 "$body")"
elif ! grep -q '"status"' "$body"; then
  fail "GET $https_base/health answered 200 without a status: $(head -c 300 "$body")"
else
  pass "GET $https_base/health: 200 $(grep -o '"status":"[a-z]*"' "$body")"
  if grep -qi '^strict-transport-security:' "$headers"; then
    pass "HSTS: $(grep -i '^strict-transport-security:' "$headers" | tr -d '\r')"
  else
    fail "HSTS: no Strict-Transport-Security header"
  fi
fi
rm -f "$body.err"

# 3. Plain HTTP is redirected to HTTPS.
if [ "$check_redirect" = 1 ]; then
  redirect="$(curl -s --max-time 15 -o /dev/null -w '%{http_code} %{redirect_url}' "$http_base/health")"
  code="${redirect%% *}"
  location="${redirect#* }"
  case "$code" in
    301 | 302 | 307 | 308)
      if [[ "$location" == "https://$DOMAIN"* ]]; then
        pass "http redirect: $code to $location"
      else
        fail "http redirect: $code to $location, not to https://$DOMAIN"
      fi
      ;;
    000) fail "http redirect: nothing answers at $http_base" ;;
    *) fail "http redirect: GET $http_base/health answered $code, expected a redirect to HTTPS" ;;
  esac
fi

# 4. The Traefik dashboard wants a password.
if [ "$check_dashboard" = 1 ]; then
  dashboard="https://traefik.$DOMAIN"
  [ "$HTTPS_PORT" = 443 ] || dashboard="$dashboard:$HTTPS_PORT"
  code="$(curl -s "${curl_tls[@]}" --max-time 15 -o /dev/null -w '%{http_code}' "$dashboard/dashboard/")"
  if [ "$code" = 401 ]; then
    pass "dashboard at $dashboard asks for a password (401)"
  else
    fail "dashboard at $dashboard answered $code without credentials, expected 401"
  fi
fi

if [ "$failures" -gt 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "All HTTPS checks passed"
