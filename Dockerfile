# One image for the server and the bot (docker-compose.yml picks the command).
FROM node:22-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json turbo.json tsconfig.base.json tsconfig.json ./
COPY apps ./apps
COPY packages ./packages
COPY e2e/package.json ./e2e/package.json
COPY bench/package.json ./bench/package.json
RUN npm ci --no-audit --no-fund && npm run build --workspace @guildhall/web && npm run build --workspace @guildhall/bot
ENV NODE_ENV=production
EXPOSE 3000
CMD ["npm", "run", "start", "--workspace", "@guildhall/server"]
