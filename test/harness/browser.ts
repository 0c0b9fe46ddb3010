/**
 * Launches Debian's Chromium (/usr/bin/chromium) with playwright-core for the host and UI tests: headless, and with
 * every flag that keeps it off the network (no DNS except loopback, no QUIC, no background/update/sync traffic).
 */
import { chromium, type Browser, type BrowserContext } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox', // CI runs as root, where Chromium's sandbox refuses to start
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Without this Chromium resolves names it sees (and some of its own) through DNS: only loopback may be reached.
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost',
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: process.env.HEADED !== '1',
    args: CHROMIUM_ARGS,
  });
}

/** True for URLs that stay on this machine (loopback HTTP/WS, or no network at all: data:, blob:, ...). */
export function isLocalUrl(url: string): boolean {
  const { protocol, hostname } = new URL(url);
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(protocol)) return true;
  return hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]';
}

/**
 * Aborts every request of the browser context that would leave the machine and reports it, so a test run can
 * never reach the internet and we learn when VS Code or the extension tries to.
 */
export async function blockNonLoopback(
  context: BrowserContext,
  onBlocked: (url: string) => void,
): Promise<void> {
  await context.route(
    (url) => !isLocalUrl(url.toString()),
    (route) => {
      onBlocked(route.request().url());
      return route.abort('blockedbyclient');
    },
  );
}
