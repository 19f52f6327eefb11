// What the browser tests share: Debian's chromium driven by playwright-core (no browser
// download), screenshots, and the focus check of keyboard use.
import assert from 'node:assert/strict'
import { copyFileSync, existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { type Browser, chromium, type Page } from 'playwright-core'

const root = new URL('../../', import.meta.url).pathname
const chromiumPath = '/usr/bin/chromium'
const resultsDirectory = join(root, 'test-results', 'browser')
const screenshotsDirectory = join(root, 'docs', 'screenshots')
// The committed screenshots change only when asked: `UPDATE_SCREENSHOTS=1 pnpm test test/browser`.
const updateScreenshots = process.env.UPDATE_SCREENSHOTS === '1'
export const password = 'correct horse battery staple'

export async function launchChromium(): Promise<Browser> {
  assert.ok(existsSync(chromiumPath), `${chromiumPath} is missing: apt-get install -y chromium`)
  return chromium.launch({
    executablePath: chromiumPath,
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
  })
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
