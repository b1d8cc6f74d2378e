// Vite build of the OneMap web UI: `npm run build` writes static files to dist/,
// which the API serves at `/`. Everything is bundled: no CDN at run time (closed intranet).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  base: './',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 2500,
    sourcemap: false,
    rolldownOptions: {
      // three pages: the workbench (/), the public page (portal.html, served at /public) and the
      // field app (/field/, a PWA; public/field/ holds its service worker and manifest, copied as they are)
      input: {
        main: fileURLToPath(new URL('./index.html', import.meta.url)),
        portal: fileURLToPath(new URL('./portal.html', import.meta.url)),
        field: fileURLToPath(new URL('./field/index.html', import.meta.url)),
      },
      output: {
        // serve the MapLibre worker as .js: every static server knows that MIME type
        assetFileNames: (info) => ((info.names && info.names[0] || '').endsWith('.mjs')
          ? 'assets/[name]-[hash].js' : 'assets/[name]-[hash][extname]'),
      },
    },
  },
  server: {
    // `npm run dev` next to `onemap serve WS --port 8000`
    proxy: {
      '/api': 'http://127.0.0.1:8000',
      '/tiles': 'http://127.0.0.1:8000',
      '/ogc': 'http://127.0.0.1:8000',
    },
  },
});
