# pubcat: build with the dev dependencies, run with the production ones only.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY src ./src
COPY jobs ./jobs
COPY bench ./bench
COPY test ./test
COPY sql ./sql
RUN npm ci

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts
COPY --from=build /app/dist ./dist
COPY sql ./sql
USER node
ENTRYPOINT ["node", "--max-old-space-size=512", "dist/src/cli.js"]
CMD ["schedule"]
