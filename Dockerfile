# syntax=docker/dockerfile:1
# ai-proxy's container image. Two stages: `build` installs every dependency (compiling the native
# better-sqlite3 module when no prebuilt binary fits) and compiles TypeScript, then drops the dev
# dependencies; the runtime stage holds only production node_modules, dist/, bin/ and package.json,
# runs as the unprivileged `node` user, and starts Node itself as PID 1 (exec form), so SIGTERM
# reaches `serve`, which drains in-flight requests and flushes the request log before it exits.
#   docker build -t ai-proxy .
#   docker run -d --env-file .env -p 8123:8123 --name ai-proxy-container ai-proxy

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8123
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/package.json ./package.json
COPY bin ./bin
COPY scripts/healthcheck.mjs ./scripts/healthcheck.mjs
COPY config.yml ./config.yml
# The request log (logs/), the client keys file (keys/) and the SQLite stores (data/) outlive the
# container; the node user owns them so the gateway can write there.
RUN mkdir -p logs keys data && chown node:node logs keys data
USER node
VOLUME ["/app/logs", "/app/keys", "/app/data"]
EXPOSE 8123
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "scripts/healthcheck.mjs"]
STOPSIGNAL SIGTERM
CMD ["node", "bin/ai-proxy.js", "serve"]
