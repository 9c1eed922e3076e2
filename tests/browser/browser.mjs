// Headless Chromium for the book, shared by inspect_pages.mjs (the browser test) and print_pdf.mjs
// (`make pdf`): a static server for a built book, Debian's chromium started offline with a fresh
// profile, MathJax served from the npm package instead of the CDN, and the waits a reader's
// browser does (images decoded, math typeset).
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

// Debian's chromium, unless CHROMIUM names another (install.sh uses the same default).
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

// Without these flags chromium tries to reach Google's hosts (the machine is offline).
export const CHROMIUM_FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

// The MathJax the built pages load (Sphinx's default mathjax_path), and everything it loads next.
const MATHJAX_CDN = /^https:\/\/cdn\.jsdelivr\.net\/npm\/mathjax@3\/(.*)$/;

const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.css': 'text/css', '.json': 'application/json', '.png': 'image/png', '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg', '.gif': 'image/gif', '.svg': 'image/svg+xml', '.ico': 'image/x-icon',
  '.woff': 'font/woff', '.woff2': 'font/woff2', '.ttf': 'font/ttf', '.txt': 'text/plain',
  '.ipynb': 'application/json', '.md': 'text/markdown', '.inv': 'application/octet-stream',
};

/** Parse `--name value` pairs; every name in `required` must be given. */
export function parseArguments(argv, required) {
  const options = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || argv[i + 1] === undefined) {
      throw new Error(`expected --name value pairs, got ${argv.slice(i).join(' ')}`);
    }
    options[argv[i].slice(2)] = argv[i + 1];
  }
  const missing = required.filter((name) => !(name in options));
  if (missing.length) throw new Error(`missing option(s): ${missing.map((m) => '--' + m).join(', ')}`);
  return options;
}

/** playwright-core, the MathJax folder and axe-core's script from the cache that install.sh fills. */
export function loadDependencies(cache) {
  const packageJson = path.resolve(cache, 'package.json');
  if (!fs.existsSync(path.resolve(cache, 'node_modules', 'playwright-core'))) {
    throw new Error(`${cache} has no playwright-core: run tests/browser/install.sh ${cache} first`);
  }
  const require = createRequire(packageJson);
  return {
    chromium: require('playwright-core').chromium,
    mathjaxDirectory: path.resolve(cache, 'node_modules', 'mathjax'),
    axeSource: fs.readFileSync(path.resolve(cache, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8'),
  };
}

/** Serve the folder `root` on 127.0.0.1 at a free port; resolves to {origin, close}. */
export function serve(root) {
  const base = path.resolve(root);
  const server = http.createServer((request, response) => {
    const urlPath = decodeURIComponent(new URL(request.url, 'http://localhost').pathname);
    let file = path.join(base, urlPath);
    if (!file.startsWith(base)) { response.writeHead(403).end(); return; }
    if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, 'index.html');
    if (!fs.existsSync(file)) { response.writeHead(404).end('not found'); return; }
    const type = CONTENT_TYPES[path.extname(file).toLowerCase()] || 'application/octet-stream';
    response.writeHead(200, { 'Content-Type': type });
    fs.createReadStream(file).pipe(response);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({ origin: `http://127.0.0.1:${port}`, close: () => new Promise((done) => server.close(done)) });
    });
  });
}

/**
 * Start chromium with a fresh profile. Requests to `origin` pass, MathJax's CDN is answered from
 * `mathjaxDirectory`, and every other request is refused and recorded in `blocked`.
 */
export async function launch(chromium, { origin, mathjaxDirectory, executablePath, viewport }) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'book-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath, headless: true, args: CHROMIUM_FLAGS, viewport: viewport || { width: 1280, height: 900 },
  });
  const blocked = [];
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    const mathjax = url.match(MATHJAX_CDN);
    if (url.startsWith(origin) || url.startsWith('data:')) {
      await route.continue();
    } else if (mathjax) {
      const file = path.join(mathjaxDirectory, mathjax[1].split(/[?#]/)[0]);
      if (file.startsWith(mathjaxDirectory) && fs.existsSync(file)) await route.fulfill({ path: file });
      else await route.fulfill({ status: 404, body: 'not in the mathjax package' });
    } else {
      blocked.push(url);
      await route.abort('blockedbyclient');
    }
  });
  const close = async () => {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  };
  return { context, blocked, close };
}

/** Load every image now (not lazily) and wait until each is decoded or has failed. */
export async function loadAllImages(page) {
  await page.evaluate(async () => {
    const images = [...document.images];
    for (const image of images) image.loading = 'eager';
    await Promise.all(images.map((image) => image.decode().catch(() => null)));
  });
}

/** Wait until MathJax has typeset the page; false when the page has no math (no MathJax loaded). */
export async function waitForMath(page, timeout = 60000) {
  if (!(await page.$('.math'))) return false;
  await page.waitForFunction(() => window.MathJax && window.MathJax.startup && window.MathJax.startup.promise,
    null, { timeout });
  await page.evaluate(() => window.MathJax.startup.promise);
  return true;
}
