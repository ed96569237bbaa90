import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';

const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];

/** The Chromium the browser tests run: CHROMIUM_PATH, else Debian's. */
export function findChromium(): string | undefined {
  return candidates.find((path): path is string => !!path && existsSync(path));
}

/** Debian's Chromium, headless, with the flags this closed network needs (no background connections). */
export async function launchChromium(): Promise<Browser> {
  const executablePath = findChromium();
  if (!executablePath) {
    throw new Error('Chromium is not installed: run `apt-get install chromium` (Debian), or set CHROMIUM_PATH');
  }
  // Loaded here, not on import: the test runner asks findChromium before any suite runs.
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}
