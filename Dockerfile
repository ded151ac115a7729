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
