import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

/** The API the dev server proxies to (apps/server, or `scripts/start.ts`). */
const API_ORIGIN = "http://localhost:3000";

/**
 * The staff SPA: built to `dist/` (served by apps/server with an index.html fallback); in
 * development `vite` serves it on :5173 and proxies tRPC (HTTP and WebSocket) and auth to :3000.
 */
export default defineConfig({
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true, sourcemap: true },
  server: {
    port: 5173,
    strictPort: true,
    proxy: {
      "/trpc": { target: API_ORIGIN, ws: true, changeOrigin: false },
      "/api": { target: API_ORIGIN, changeOrigin: false },
    },
  },
});
