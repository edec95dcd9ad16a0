# Production image: the Hono server serving actors through registry.handler().
# It runs against an engine it is given (Rivet Cloud or self-hosted): it never
# starts one. Build with a version that grows with every deploy:
#   docker build --build-arg RIVET_RUNNER_VERSION=$(git rev-list --count HEAD) -t actor-fleet .
#
# Debian (glibc) base: rivetkit's native runtime ships as
# @rivetkit/rivetkit-napi-linux-{x64,arm64}-gnu (musl builds exist too, but
# the gnu ones are what npm resolves on a glibc build stage).
ARG NODE_VERSION=22.23.3

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Exactly the lockfile. It names every platform's optional binaries
# (tools/lockfile.ts fills in the ones the registry it was made with lacked).
RUN npm ci --no-audit --no-fund
COPY . .
ARG RIVET_RUNNER_VERSION
ENV RIVET_RUNNER_VERSION=${RIVET_RUNNER_VERSION}
RUN npm run build
RUN npm prune --omit=dev --no-audit --no-fund

FROM node:${NODE_VERSION}-bookworm-slim
ARG RIVET_RUNNER_VERSION
# No PORT here: the server listens on PORT, else RIVET_PORT, else 3000.
# Platforms that assign a port set PORT; Rivet Compute sets RIVET_PORT (3000
# by default), and a PORT baked into the image would win over it.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    RIVET_RUNNER_VERSION=${RIVET_RUNNER_VERSION}
WORKDIR /app
# Only the product: src/ (server, app, registry, actors), its production
# dependencies and the builds. The harness in tools/ (launcher, cluster, debug
# CLI, bench) stays in the build stage; test/deploy/image.test.ts checks this list.
COPY --from=build --chown=node:node /app/package.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/src ./src
COPY --from=build --chown=node:node /app/dist ./dist
# The web app, built by `npm run build`; the server serves it at `/`.
COPY --from=build --chown=node:node /app/web/dist ./web/dist
USER node
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||process.env.RIVET_PORT||3000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# node is PID 1 and receives SIGTERM directly; src/server.ts drains the actors.
# The server runs its TypeScript source through Node's built-in type stripping
# (Node >= 22.18), so there is no compile step to get out of sync.
CMD ["node", "src/server.ts"]
