# syntax=docker/dockerfile:1
# One image for every role: APP_ROLE=api (HTTP only), worker (queues and schedules) or all.
# Node.js 24 LTS ("Krypton", security fixes until April 2028), pinned to an exact release: bump the
# tag (both stages) when a new 24.x is out. The code also runs on Node.js 20 (package.json engines).

FROM node:24.21.0-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
RUN npm run build

FROM node:24.21.0-bookworm-slim AS runtime
ENV NODE_ENV=production \
    APP_ROLE=all \
    PORT=3000
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY config ./config
# Never run as root: the image's unprivileged "node" user (uid 1000) owns nothing it could rewrite.
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD ["sh", "-c", "P=$PORT; [ \"$APP_ROLE\" = worker ] && P=$HEALTH_PORT; [ -z \"$P\" ] || node -e \"fetch('http://127.0.0.1:'+process.argv[1]+'/health/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))\" \"$P\""]
CMD ["node", "dist/main.js"]
