# One image for the service: `worker` or `api` (or `sandboxes`) by command; see docker/compose.yaml.
# Not built here (no Docker daemon on the project's machines): CI runs the same steps on the host with
# docker/build-steps.sh, which keeps in sync with this file (README "Running in production").
#
#   docker build -t idv-orchestrator .
#   docker run --env-file prod.env idv-orchestrator worker
#   docker run --env-file prod.env -p 8080:8080 idv-orchestrator api

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Same as CI (.ci/run): npm runs no install scripts unless approved, and none are.
RUN npm install --no-audit --no-fund --ignore-scripts
COPY tsconfig.json ./
COPY config ./config
COPY codec ./codec
COPY workflows ./workflows
COPY activities ./activities
COPY workers ./workers
COPY client ./client
COPY sandboxes ./sandboxes
COPY temporal-dev ./temporal-dev
COPY test ./test
COPY bench ./bench
COPY observability ./observability
COPY chaos ./chaos
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production \
    APP_ENV=production \
    API_HOST=0.0.0.0 \
    API_PORT=8080 \
    NODE_NO_WARNINGS=1
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY docker/entrypoint.sh ./docker/entrypoint.sh
USER node
EXPOSE 8080
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["api"]
