# pubcat: compiled with the dev dependencies, run with the production ones only, as a non-root user.
# Node 24 is an LTS line (supported until April 2028); Node 20 reached its end of life in April 2026.
FROM node:24-trixie-slim AS build
WORKDIR /app
# The dependencies get their own layer, so a source change reuses it. No dependency has an install
# script, and `prepare` (the build) cannot run before the sources are copied.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY jobs ./jobs
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:24-trixie-slim
ENV NODE_ENV=production
WORKDIR /app
# package.json makes dist/ an ES module package and marks the root that sql/ is looked up from.
COPY package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/jobs ./dist/jobs
COPY sql ./sql
USER node
ENTRYPOINT ["node", "--max-old-space-size=512", "dist/src/cli.js"]
CMD ["schedule"]
