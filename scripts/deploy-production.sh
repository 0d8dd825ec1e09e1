#!/usr/bin/env bash
# Updates ai-proxy on a server (seed 002's deploy script): copies this checkout there with rsync
# over ssh, keeping what belongs to the server (.env, keys/, logs/, data/, letsencrypt/, certs/),
# restarts it with Docker Compose and waits for /health to answer.
#   DEPLOY_HOST=user@server ./scripts/deploy-production.sh [--dry-run]
# DEPLOY_HOST may also be a local folder (an absolute or ./ path): the same steps without ssh.
# Settings (environment):
#   DEPLOY_HOST            ssh destination, or a local folder                      (required)
#   DEPLOY_PATH            the application's folder on the server   (default /opt/ai-proxy)
#   DEPLOY_COMPOSE_FILE    default docker-compose.https.yml when the server's .env sets DOMAIN,
#                          else docker-compose.yml
#   DEPLOY_RESTART         the restart command, run in DEPLOY_PATH
#                          (default: docker compose -f $DEPLOY_COMPOSE_FILE up -d --build)
#   DEPLOY_HEALTH_URL      checked with curl on the server; default: the container's own
#                          health check (docker compose exec ai-proxy node scripts/healthcheck.mjs)
#   DEPLOY_HEALTH_TIMEOUT  seconds to wait for a healthy answer (default 90)
#   --dry-run, -n          show what would be copied and run, change nothing
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dry_run=0
for arg in "$@"; do
  case "$arg" in
    -n | --dry-run) dry_run=1 ;;
    -h | --help)
      sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "deploy-production.sh: unknown option $arg (see --help)" >&2
      exit 2
      ;;
  esac
done

if [ -z "${DEPLOY_HOST:-}" ]; then
  echo "deploy-production.sh: set DEPLOY_HOST (user@server, or a local folder), e.g." >&2
  echo "  DEPLOY_HOST=deploy@ai.example.com ./scripts/deploy-production.sh" >&2
  exit 2
fi
for tool in rsync curl; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "deploy-production.sh: $tool is not installed" >&2
    exit 2
  }
done

local_target=0
case "$DEPLOY_HOST" in
  /* | ./* | ../*) local_target=1 ;;
esac
if [ "$local_target" = 1 ]; then
  mkdir -p "$DEPLOY_HOST"
  DEPLOY_PATH="$(cd "$DEPLOY_HOST" && pwd)"
  destination="$DEPLOY_PATH/"
else
  DEPLOY_PATH="${DEPLOY_PATH:-/opt/ai-proxy}"
  destination="$DEPLOY_HOST:$DEPLOY_PATH/"
fi
health_timeout="${DEPLOY_HEALTH_TIMEOUT:-90}"

# Runs a shell command in DEPLOY_PATH on the target.
on_target() {
  if [ "$local_target" = 1 ]; then
    (cd "$DEPLOY_PATH" && bash -c "$1")
  else
    # shellcheck disable=SC2029 # expanded here on purpose: the command is built locally
    ssh "$DEPLOY_HOST" "cd $(printf '%q' "$DEPLOY_PATH") && $1"
  fi
}

echo "Deploying $ROOT to $destination"
if [ "$local_target" = 0 ]; then
  ssh -o BatchMode=yes "$DEPLOY_HOST" "mkdir -p $(printf '%q' "$DEPLOY_PATH")"
fi

# What the server owns is excluded, which also protects it from --delete.
rsync_args=(
  -a --delete --itemize-changes
  --include=/.env.example --exclude=/.env --exclude='/.env.*'
  --exclude=/keys/ --exclude=/logs/ --exclude=/data/ --exclude=/letsencrypt/ --exclude=/certs/
  --exclude=/.git/ --exclude=node_modules/ --exclude=/dist/ --exclude=/coverage/ --exclude=/.state/
)
[ "$dry_run" = 1 ] && rsync_args+=(--dry-run)
rsync "${rsync_args[@]}" "$ROOT/" "$destination"

compose_file="${DEPLOY_COMPOSE_FILE:-}"
if [ -z "$compose_file" ]; then
  if on_target "grep -qE '^DOMAIN=.' .env 2>/dev/null"; then
    compose_file=docker-compose.https.yml
  else
    compose_file=docker-compose.yml
  fi
fi
restart="${DEPLOY_RESTART:-docker compose -f $compose_file up -d --build}"
if [ -n "${DEPLOY_HEALTH_URL:-}" ]; then
  health="curl -fsS --max-time 5 $(printf '%q' "$DEPLOY_HEALTH_URL") >/dev/null"
else
  health="docker compose -f $compose_file exec -T ai-proxy node scripts/healthcheck.mjs"
fi
# The folders the gateway writes (the image's user is uid 1000).
prepare="mkdir -p logs keys data && { [ \"\$(id -u)\" != 0 ] || chown 1000:1000 logs keys data; }"

if [ "$dry_run" = 1 ]; then
  echo "Dry run: nothing was copied. Would run in $DEPLOY_PATH:"
  echo "  $prepare"
  echo "  $restart"
  echo "  then wait up to ${health_timeout}s for: $health"
  exit 0
fi

on_target "$prepare"
echo "Restarting: $restart"
on_target "$restart"

echo "Waiting for /health (up to ${health_timeout}s)"
deadline=$((SECONDS + health_timeout))
until on_target "$health" >/dev/null 2>&1; do
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "deploy-production.sh: no healthy answer within ${health_timeout}s ($health)" >&2
    exit 1
  fi
  sleep 2
done
echo "Deployed: /health answers"
