// Debian's Chromium through playwright-core (no browser download), for the console's page tests.
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import AxeBuilder from '@axe-core/playwright'
import { chromium, type Browser, type Page } from 'playwright-core'
import type { Test } from 'tap'

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/**
 * A headless Chromium closed with the test, or null when it is missing outside CI (CI installs it
 * with apt-get, .ci/run; there a missing browser is a failure, never a skip).
 */
export async function launchBrowser(t: Test): Promise<Browser | null> {
  if (!existsSync(CHROMIUM)) {
    if (process.env.CI === 'true') t.fail(`Chromium is missing at ${CHROMIUM} (apt-get install chromium)`)
    else t.comment(`skipped: Chromium is missing at ${CHROMIUM} (apt-get install chromium)`)
    return null
  }
  // --no-sandbox: the tests may run as root, where Chromium's sandbox refuses to start.
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
  t.teardown(() => browser.close())
  return browser
}

/** axe-core's WCAG 2.1 A and AA rules on the page as it is now: the violations, as short lines. */
export async function accessibilityViolations(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze()
  return result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`)
}

/** Saves a screenshot when SCREENSHOTS_DIR is set (npm run screenshots writes docs/console/). */
export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = process.env.SCREENSHOTS_DIR
  if (!dir) return
  mkdirSync(dir, { recursive: true })
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true })
}

/** Presses Tab until the element matching `selector` has focus (a keyboard user's way there). */
export async function tabTo(page: Page, selector: string, maxTabs = 40): Promise<void> {
  for (let i = 0; i < maxTabs; i++) {
    await page.keyboard.press('Tab')
    // A string: the tests compile without the DOM library.
    if (await page.evaluate(`document.activeElement?.matches(${JSON.stringify(selector)}) ?? false`)) return
  }
  throw new Error(`${selector} not reached with ${maxTabs} presses of Tab`)
}
