import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, BrowserContext, chromium, Locator, Page } from 'playwright-core';

/**
 * Debian's Chromium driven by playwright-core (Playwright's own browser download cannot be reached
 * here). `.ci/run` installs the package when /usr/bin/chromium is missing.
 */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export const LAPTOP = { width: 1280, height: 860 };
export const TABLET = { width: 820, height: 1180 };

export async function newPage(browser: Browser, viewport = LAPTOP): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport, locale: 'en-US' });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  return { context, page };
}

/**
 * Screenshots of the main pages, taken by the browser suite. They go to `docs/` when
 * CONSOLE_SCREENSHOTS=docs (how the README's pictures are refreshed), else to `tmp/console-screenshots/`,
 * so an ordinary test run leaves the working tree unchanged.
 */
export async function screenshot(page: Page, name: string, fullPage = true, mask: Locator[] = []): Promise<string> {
  const dir = process.env.CONSOLE_SCREENSHOTS === 'docs' ? join(__dirname, '..', '..', 'docs') : join(__dirname, '..', '..', 'tmp', 'console-screenshots');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path, fullPage, animations: 'disabled', mask });
  return path;
}
