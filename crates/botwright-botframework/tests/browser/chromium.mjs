// Launches Debian's Chromium headless through playwright-core, with a fresh profile.
import { chromium } from 'playwright-core';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

// Returns {context, page, close}. CHROMIUM overrides the browser's path.
export async function launch() {
  const profile = await mkdtemp(join(tmpdir(), 'botwright-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ARGS,
    viewport: { width: 1100, height: 760 },
  });
  const page = context.pages()[0] || await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error') console.error('[browser]', message.text());
  });
  page.on('pageerror', (error) => console.error('[browser] uncaught:', error.message));
  const close = async () => {
    await context.close();
    await rm(profile, { recursive: true, force: true });
  };
  return { context, page, close };
}

// The value of environment variable `name`, or fails saying it is needed.
export function need(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`${name} is not set`);
    process.exit(2);
  }
  return value;
}

// Runs `main`, printing how long it took; any failure exits 1 with the reason.
export function run(name, main) {
  const started = Date.now();
  main().then(
    () => { console.log(`${name}: ok in ${Date.now() - started} ms`); process.exit(0); },
    (error) => { console.error(`${name}: FAILED: ${error && error.stack || error}`); process.exit(1); },
  );
}
