# Sleutel on Node 22 LTS, as a non-root user. Build: docker build -t sleutel .
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY migrations ./migrations
RUN npx tsc && npx tsc --outDir dist-migrations --rootDir migrations migrations/*.ts --module NodeNext --moduleResolution NodeNext --target ES2022 --skipLibCheck \
 && npm prune --omit=dev

FROM node:22-bookworm-slim
ENV NODE_ENV=production PORT=3000
# Garbage collection pacing, not a memory cap: V8 spaces its full collections by the heap limit it
# is given. Sized from a big host's memory, it let garbage grow to 4-5x the ~25 MB live heap (RSS
# 220-260 MB under load); with 1 GB it collects sooner (RSS ~150 MB) for 2-4 % more CPU,
# where 256 MB cost 10-15 % (`npm run bench`, which starts Sleutel with this line's options).
# Set NODE_OPTIONS in the environment to choose otherwise.
ENV NODE_OPTIONS=--max-old-space-size=1024
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/dist-migrations ./migrations
COPY package.json ./
COPY bin ./bin
COPY interactions ./interactions
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/main.js"]
