// What the browser tests share: Debian's Chromium headless shell driven by playwright-core (no
// browser download), screenshots, and the focus check of keyboard use.
import assert from 'node:assert/strict'
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { type Browser, chromium, type Page } from 'playwright-core'
import { type Stack, type StackOptions, startStack } from '../support/stack.ts'

const root = new URL('../../', import.meta.url).pathname
// Chromium's headless shell (Blink and V8 as in Chromium, without the desktop browser around
// them), as playwright runs headless Chromium: the browser journey took half the CPU it took in
// `chromium --headless` (16 s against 33 s), on a machine where the suite's time follows its CPU.
const chromiumPath = '/usr/bin/chromium-headless-shell'
const resultsDirectory = join(root, 'test-results', 'browser')
const screenshotsDirectory = join(root, 'docs', 'screenshots')
// The committed screenshots change only when asked: `UPDATE_SCREENSHOTS=1 pnpm test test/browser`.
const updateScreenshots = process.env.UPDATE_SCREENSHOTS === '1'
export const password = 'correct horse battery staple'

export async function launchChromium(): Promise<Browser> {
  assert.ok(existsSync(chromiumPath), `${chromiumPath} is missing: apt-get install -y chromium-headless-shell`)
  return chromium.launch({
    executablePath: chromiumPath,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}

/**
 * A stack and a browser, started side by side. What did start is stopped here when the other
 * failed: the caller never gets hold of it, and a browser left open would keep the file's
 * process, and the whole run, alive.
 */
export async function startStackAndBrowser(options: StackOptions = {}): Promise<[Stack, Browser]> {
  const [stack, browser] = await Promise.allSettled([startStack(options), launchChromium()])
  if (stack.status === 'fulfilled' && browser.status === 'fulfilled') return [stack.value, browser.value]
  if (browser.status === 'fulfilled') await browser.value.close()
  if (stack.status === 'fulfilled') await stack.value.stop()
  throw stack.status === 'rejected' ? stack.reason : (browser as PromiseRejectedResult).reason
}

/** A full-page screenshot in test-results/browser; with `commit`, also in docs/screenshots when asked. */
export async function screenshot(page: Page, name: string, options: { commit?: boolean } = {}) {
  mkdirSync(resultsDirectory, { recursive: true })
  const path = join(resultsDirectory, `${name}.png`)
  await page.screenshot({ path, fullPage: true })
  if (options.commit && updateScreenshots) {
    mkdirSync(screenshotsDirectory, { recursive: true })
    copyFileSync(path, join(screenshotsDirectory, `${name}.png`))
  }
}

/** Whether the focused element shows a focus ring a keyboard user can see. */
export async function focusIsVisible(page: Page): Promise<boolean> {
  return page.evaluate(() => {
    const focused = document.activeElement
    if (!focused || focused === document.body) return false
    const style = getComputedStyle(focused)
    return style.outlineStyle !== 'none' && Number.parseFloat(style.outlineWidth) >= 2
  })
}

// axe-core's own bundle, run inside the page (page.evaluate is not subject to the page's CSP).
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

/** What axe-core finds against WCAG 2.1 A and AA on the page as it is now: `rule: selectors`. */
export async function accessibilityViolations(page: Page): Promise<string[]> {
  await page.evaluate(axeSource)
  const violations = await page.evaluate(async () => {
    const { axe } = window as unknown as {
      axe: {
        run: (
          context: Document,
          options: object,
        ) => Promise<{ violations: { id: string; nodes: { target: string[] }[] }[] }>
      }
    }
    const result = await axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] })
    return result.violations.map(
      (violation) => `${violation.id}: ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`,
    )
  })
  return violations
}

/** How wide the page is (its scroll width): more than the viewport means sideways scrolling. */
export function pageWidth(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth)
}
