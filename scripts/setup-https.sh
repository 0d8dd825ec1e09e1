#!/usr/bin/env bash
# Prepares the HTTPS set-up of docker-compose.https.yml (seed 002's ./scripts/setup-https.sh):
# writes .env from .env.example (an existing .env is kept and only completed), with DOMAIN,
# ACME_EMAIL, HTTP_PORT, HTTPS_PORT, the Traefik dashboard's basic auth and a client key, and makes
# the folders the containers write to. On a terminal it asks for what is missing; otherwise (or with
# --non-interactive) it takes values from the environment, e.g.
#   DOMAIN=ai.example.com ACME_EMAIL=me@example.com ./scripts/setup-https.sh --non-interactive
# and leaves anything still missing for you to fill in .env.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ENV_FILE="${ENV_FILE:-$ROOT/.env}"
EXAMPLE="$ROOT/.env.example"
# The image's unprivileged user (node), which must be able to write logs/, keys/ and data/.
CONTAINER_UID=1000

interactive=1
[ -t 0 ] || interactive=0
for arg in "$@"; do
  case "$arg" in
    -y | --non-interactive) interactive=0 ;;
    -h | --help)
      sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "setup-https.sh: unknown option $arg (see --help)" >&2
      exit 2
      ;;
  esac
done

say() { printf '%s\n' "$*"; }

# The live value of NAME in .env (quotes removed), or nothing.
current() {
  local line
  line="$(grep -E "^$1=" "$ENV_FILE" | tail -n 1 || true)"
  line="${line#*=}"
  line="${line%\"}"
  line="${line#\"}"
  line="${line%\'}"
  line="${line#\'}"
  printf '%s' "$line"
}

# Sets NAME=VALUE in .env: replaces a live line, else uncomments the example's line, else appends.
set_env() {
  local tmp
  tmp="$(mktemp "$ENV_FILE.XXXXXX")"
  NAME="$1" VALUE="$2" awk '
    BEGIN { name = ENVIRON["NAME"]; value = ENVIRON["VALUE"] }
    { lines[NR] = $0 }
    $0 ~ "^" name "=" { live = NR }
    !commented && $0 ~ "^# *" name "=" { commented = NR }
    END {
      target = live ? live : commented
      for (i = 1; i <= NR; i++) print (i == target ? name "=" value : lines[i])
      if (!target) print name "=" value
    }
  ' "$ENV_FILE" >"$tmp"
  mv "$tmp" "$ENV_FILE"
}

# A value for NAME: the environment's, else .env's, else asked for (on a terminal), else DEFAULT.
resolve() {
  local name="$1" prompt="$2" default="${3:-}" value
  value="${!name:-}"
  [ -n "$value" ] || value="$(current "$name")"
  if [ -z "$value" ] && [ "$interactive" = 1 ]; then
    read -r -p "$prompt${default:+ [$default]}: " value
  fi
  printf '%s' "${value:-$default}"
}

if [ ! -f "$ENV_FILE" ]; then
  if [ ! -f "$EXAMPLE" ]; then
    echo "setup-https.sh: $EXAMPLE is missing; run this script from an ai-proxy checkout" >&2
    exit 1
  fi
  cp "$EXAMPLE" "$ENV_FILE"
  say "Wrote $ENV_FILE from .env.example"
else
  say "Completing the existing $ENV_FILE"
fi
chmod 600 "$ENV_FILE"

todo=()

domain="$(resolve DOMAIN 'Domain the gateway is served at (e.g. ai.example.com or myapp.1.2.3.4.nip.io)')"
if [[ "$domain" =~ ^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$ ]]; then
  set_env DOMAIN "$domain"
elif [ -n "$domain" ]; then
  echo "setup-https.sh: DOMAIN \"$domain\" is not a host name" >&2
  exit 1
else
  todo+=("DOMAIN")
fi

email="$(resolve ACME_EMAIL "E-mail for Let's Encrypt")"
if [[ "$email" == ?*@?* ]]; then
  set_env ACME_EMAIL "$email"
elif [ -n "$email" ]; then
  echo "setup-https.sh: ACME_EMAIL \"$email\" is not an e-mail address" >&2
  exit 1
else
  todo+=("ACME_EMAIL")
fi

for port_name in HTTP_PORT HTTPS_PORT; do
  default=80
  [ "$port_name" = HTTPS_PORT ] && default=443
  port="${!port_name:-$(current "$port_name")}"
  port="${port:-$default}"
  if ! [[ "$port" =~ ^[0-9]+$ ]] || [ "$port" -lt 1 ] || [ "$port" -gt 65535 ]; then
    echo "setup-https.sh: $port_name \"$port\" is not a port number" >&2
    exit 1
  fi
  set_env "$port_name" "$port"
done

# The dashboard's basic auth: an htpasswd line, single-quoted so that Compose keeps its $ signs.
if [ -n "${TRAEFIK_DASHBOARD_AUTH:-}" ]; then
  set_env TRAEFIK_DASHBOARD_AUTH "'$TRAEFIK_DASHBOARD_AUTH'"
elif [ -z "$(current TRAEFIK_DASHBOARD_AUTH)" ]; then
  user="${TRAEFIK_DASHBOARD_USER:-admin}"
  password="${TRAEFIK_DASHBOARD_PASSWORD:-}"
  if [ -z "$password" ] && [ "$interactive" = 1 ]; then
    read -r -s -p "Password for the Traefik dashboard (user $user; empty: generate one): " password
    echo
  fi
  generated=0
  if [ -z "$password" ]; then
    password="$(openssl rand -base64 18 | tr -d '/+=')"
    generated=1
  fi
  hash="$(openssl passwd -apr1 "$password")"
  set_env TRAEFIK_DASHBOARD_AUTH "'$user:$hash'"
  if [ "$generated" = 1 ]; then
    say "Traefik dashboard login: $user / $password (only its hash is kept in .env)"
  fi
fi

# A client key: the gateway refuses to listen beyond loopback without one.
if [ -n "${API_KEYS:-}" ]; then
  set_env API_KEYS "$API_KEYS"
elif [ -z "$(current API_KEYS)" ]; then
  key="sk-aiproxy-$(openssl rand -hex 24)"
  set_env API_KEYS "$key"
  say "Client key (API_KEYS in .env): $key"
fi

# What the containers write: certificates (Traefik wants acme.json private), and the gateway's
# logs, keys and SQLite stores, owned by the image's user.
mkdir -p "$ROOT/letsencrypt" "$ROOT/logs" "$ROOT/keys" "$ROOT/data"
[ -f "$ROOT/letsencrypt/acme.json" ] || : >"$ROOT/letsencrypt/acme.json"
chmod 600 "$ROOT/letsencrypt/acme.json"
if [ "$(id -u)" = 0 ]; then
  chown "$CONTAINER_UID:$CONTAINER_UID" "$ROOT/logs" "$ROOT/keys" "$ROOT/data"
elif [ "$(id -u)" != "$CONTAINER_UID" ]; then
  say "Note: the container runs as uid $CONTAINER_UID; make logs/ keys/ data/ writable by it:"
  say "  sudo chown $CONTAINER_UID:$CONTAINER_UID logs keys data"
fi

say ""
if [ "${#todo[@]}" -gt 0 ]; then
  say "Still to set in .env: ${todo[*]}"
fi
say "Next: add your provider keys to .env (e.g. OPENROUTER_API_KEY=..., GEMINI_API_KEY=...), then"
say "  docker compose -f docker-compose.https.yml up -d"
say "  ./scripts/test-https.sh"
