# zablab server image: `docker build -t zablab .`, then see compose/ (`zablab compose`).
#
# BASE is any image with node (>= 20.19) and npm on PATH, a POSIX sh, and a `node` user
# (uid 1000) as the official node images have. Machines that cannot pull from a registry
# pass an image they made locally: `--build-arg BASE=<local image>`.
#
# Two stages: `build` installs every dependency from the lock file and compiles TypeScript,
# then drops the dev dependencies; the final stage gets dist/ and production node_modules
# only, and runs as `node`, not root. Nothing here needs BuildKit: the classic builder works.
ARG BASE=node:24-slim

FROM ${BASE} AS build
WORKDIR /build
# Dependencies first: this layer is reused until package*.json change. No install scripts:
# compiling needs none, and the dev tools' native add-ons would only try to build.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund --loglevel=warn
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# Compile, then keep production dependencies only: a clean install from npm's cache, which the
# first install filled (no network; faster than `npm prune` on a layered file system).
RUN npm run build \
 && rm -rf node_modules \
 && npm ci --omit=dev --offline --no-audit --no-fund --loglevel=warn

FROM ${BASE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /build/package.json ./package.json
COPY --from=build /build/node_modules ./node_modules
COPY --from=build /build/dist ./dist
# /conf holds zoo.cfg (mounted read-only); /data is dataDir (txn log, snapshots, epochs, myid).
# The volume takes /data's owner, so the server can write it without root.
RUN mkdir -p /conf /data && chown node:node /data
VOLUME /data
USER node
# client, quorum, election, admin (HTTP: /metrics, /commands, /readyz, REST)
EXPOSE 2181 2888 3888 8080
# Healthy = serving clients (GET /readyz is 200 only then). node does the check (slim images
# have no curl), with node:http rather than fetch to start fast; it reads admin.serverPort and
# admin.serverAddress from the same zoo.cfg. A generous timeout: node starts slowly on a busy host.
HEALTHCHECK --interval=5s --timeout=10s --start-period=60s --retries=3 \
  CMD ["node", "-e", "const c=require('fs').readFileSync('/conf/zoo.cfg','utf8');const v=(k,d)=>(new RegExp('^'+k.replace('.','\\\\.')+'\\\\s*=\\\\s*(\\\\S+)','m').exec(c)||[,d])[1];const h=v('admin.serverAddress','127.0.0.1');require('http').get({host:h==='0.0.0.0'?'127.0.0.1':h,port:+v('admin.serverPort','8080'),path:'/readyz',timeout:8000},r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1)).on('timeout',()=>process.exit(1))"]
# No entrypoint script: `docker run IMAGE <command>` runs that command (e.g. `id -u`); compose
# adds an init process (`init: true`) so the server gets SIGTERM and stops in under a second.
ENTRYPOINT []
CMD ["node", "dist/cli/main.js", "server", "--config", "/conf/zoo.cfg"]
