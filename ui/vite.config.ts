/// <reference types="vitest" />
import { defineConfig, type Plugin } from 'vite'
import vue from '@vitejs/plugin-vue'
import { fileURLToPath } from 'node:url'
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'

// `npm run dev` serves the desk on :5173 and sends the API (and its websocket) to the Switchboard server.
const api = process.env.SWITCHBOARD_URL ?? 'http://127.0.0.1:8000'
const outDir = fileURLToPath(new URL('../src/switchboard/web/static/app', import.meta.url))

/**
 * Every text file of the build written again as .br and .gz next to it (node's own zlib, no package):
 * the server picks one by Accept-Encoding, so it compresses nothing per request.
 */
function precompress(): Plugin {
  const TEXT = /\.(js|mjs|css|html|svg|json|txt|map)$/
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const path = join(dir, name)
      return statSync(path).isDirectory() ? walk(path) : [path]
    })
  return {
    name: 'switchboard-precompress',
    apply: 'build',
    closeBundle() {
      for (const path of walk(outDir).filter((p) => TEXT.test(p))) {
        const raw = readFileSync(path)
        if (raw.length < 1024) continue // a request's headers weigh as much
        const br = brotliCompressSync(raw, {
          params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: raw.length },
        })
        const gz = gzipSync(raw, { level: 9 })
        if (br.length < raw.length) writeFileSync(`${path}.br`, br)
        if (gz.length < raw.length) writeFileSync(`${path}.gz`, gz)
      }
    },
  }
}

export default defineConfig({
  plugins: [vue(), precompress()],
  resolve: { alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) } },
  build: {
    outDir,
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 400,
  },
  server: {
    proxy: {
      '/api': { target: api, ws: true, changeOrigin: false },
    },
  },
  test: {
    environment: 'jsdom',
    include: ['tests/**/*.spec.ts'],
  },
})
