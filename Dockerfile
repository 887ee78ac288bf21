# customer-sync container image. There is no build step: Node 26 runs the TypeScript sources
# directly (type stripping), so the image is the production node_modules plus the sources.
#
#   docker build -t customer-sync .                 (the service; the default target)
#   docker build --target dev -t customer-sync-dev .  (plus dev/: compose's simulator, set-up job)
#   docker run --rm customer-sync node src/cli/bin.ts --help

ARG NODE_IMAGE=node:26-slim

# ---- deps: production dependencies only, installed exactly from the lockfile ----------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# The npm `node` package (a Node 26 for machines whose system Node is older) is a dev
# dependency, so --omit=dev leaves it out: the image's own Node 26 runs the service.
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force

# ---- service: what production runs: src/, the schemas, the migrations ------------------------
FROM ${NODE_IMAGE} AS service
ENV NODE_ENV=production
# Peak RSS (SPEC §9): without a memory limit V8 sizes its heap from the host's RAM and, on a
# big host, lets the old generation grow 4x between collections; capped at 1 GiB it grows about
# 1.6x, and an 8 MiB semi-space keeps the young generation at a quarter of V8's default.
# glibc's malloc holds the memory outside the heap (Buffers: fetch responses, query texts):
# at most 2 arenas instead of one per thread up to 8 per core; blocks of 128 KiB and more
# mapped and unmapped on their own rather than left in the heap, which glibc does once its
# threshold has risen after the first large free (setting it fixes it); free heap top above
# 128 KiB given back. Together: peak RSS 245 -> 219 MiB, CPU per event within noise.
# `npm run bench` runs the service with these settings (docs/performance.md).
ENV NODE_OPTIONS="--max-old-space-size=1024 --max-semi-space-size=8"
ENV MALLOC_ARENA_MAX=2
ENV MALLOC_MMAP_THRESHOLD_=131072
ENV MALLOC_TRIM_THRESHOLD_=131072
WORKDIR /app
# Files stay owned by root: the service only reads them.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY src ./src
COPY schemas ./schemas
COPY drizzle ./drizzle

# The official node images ship the unprivileged `node` user (uid 1000).
USER node

# HTTP_PORT: /healthz, /readyz, /metrics.
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.HTTP_PORT || 8080) + '/healthz', { signal: AbortSignal.timeout(3000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

CMD ["node", "src/cli/bin.ts", "run"]

# ---- dev: the service image plus the development tools of dev/ (the lending-system simulator,
# the demo set-up job), for docker compose's `lending-sim` and `setup` only -------------------
FROM service AS dev
COPY dev ./dev

# ---- runtime, the default target: the service alone; dev/, test/ and bench/ are not in it -----
FROM service AS runtime
