# avara-fhir-sync: `docker build -t avara-fhir-sync .` (README "Deploy").

# --- build: production dependencies, with the tools better-sqlite3 needs when no prebuilt
# binary fits (python3, make, g++). tsx is a runtime dependency: the sources run as TypeScript.
FROM node:20-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
# node-gyp takes the image's own Node headers instead of downloading them (offline builds).
ENV npm_config_nodedir=/usr/local
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY src ./src
COPY drizzle ./drizzle
COPY LICENSE README.md ./

# --- runtime: no compilers, a dedicated unprivileged user, the database on a volume.
FROM node:20-bookworm-slim
# HOST=0.0.0.0 so the published port reaches it; beyond loopback ADMIN_TOKENS (or ADMIN_TOKEN) is
# then required: without one /api, /metrics and the audit page answer 503 (webhooks still work).
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    SQLITE_PATH=/data/avara-fhir-sync.db
RUN groupadd --system --gid 10001 avara \
 && useradd --system --uid 10001 --gid avara --home-dir /app --shell /usr/sbin/nologin avara \
 && mkdir /data && chown avara:avara /data
WORKDIR /app
COPY --from=build --chown=root:root /app /app
USER avara
VOLUME ["/data"]
EXPOSE 8080
# /healthz answers whatever the Host header; no curl in the slim image, node's fetch does it.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Exec form: node is PID 1 and gets SIGTERM itself, so serve finishes attempts in flight
# (SHUTDOWN_GRACE_SECONDS, default 20): stop with `docker stop -t 30` or a longer grace.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "src/cli-entry.mjs"]
CMD ["serve"]
