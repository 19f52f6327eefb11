// Issue 13's browser journey for a person's own account, in a real browser (Debian's Chromium
// headless shell, driven by playwright-core) against the real processes: confirming the address
// from the mailed link, changing the password (the other browser is signed out), and resetting a
// forgotten one by the mailed link. Each page is labelled, usable at 390 px and by keyboard, and
// shows each error once, beside its field.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { uniqueSuffix } from '@gatehouse/testing'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { type Stack, startStack } from '../support/stack.ts'
import { focusIsVisible, launchChromium, password, screenshot } from './browser.ts'

const changedPassword = 'a changed passphrase 2026'
const resetPassword = 'chosen after forgetting 77'

/** Fields (inputs) without an accessible label, hidden ones included. */
function unlabelledFields(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll('input')]
      .filter((field) => field.type !== 'hidden')
      .filter((field) => ![...(field.labels ?? [])].some((label) => (label.textContent ?? '').trim() !== ''))
      .map((field) => field.id || field.outerHTML),
  )
}

/** The page fits a 390 px wide phone: nothing is wider than the viewport. */
async function assertFitsPhone(page: Page) {
  await page.setViewportSize({ width: 390, height: 844 })
  const widest = await page.evaluate(() => document.documentElement.scrollWidth)
  assert.ok(widest <= 390, `${page.url()} is ${widest} px wide at 390 px`)
  await page.setViewportSize({ width: 1280, height: 900 })
}

/** The texts the page shows as errors (alerts and field errors) that are not empty. */
function shownErrors(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll('.error, .field-error')]
      .filter((node) => (node as HTMLElement).offsetParent !== null && (node.textContent ?? '').trim() !== '')
      .map((node) => (node.textContent ?? '').trim()),
  )
}

describe('the browser journey: confirm the address, change the password, reset it by link', {
  timeout: 180_000,
}, () => {
  let stack: Stack
  let browser: Browser
  let context: BrowserContext
  let page: Page
  const email = `ada-${uniqueSuffix()}@example.test`

  before(async () => {
    stack = await startStack()
    browser = await launchChromium()
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    page = await context.newPage()
  })
  after(async () => {
    await browser?.close()
    await stack?.stop()
  })

  it('signs up, is told to confirm the address, and confirms it from the mailed link', async () => {
    await page.goto(`${stack.webUrl}/signup`)
    await page.getByLabel('Email').fill(email)
    await page.getByLabel('Password', { exact: true }).fill(password)
    await page.getByRole('button', { name: 'Create account' }).click()
    await page.waitForURL(`${stack.webUrl}/`)
    await page.locator('#unconfirmed').getByText('Confirm your email address').waitFor()

    const link = await stack.mailedLink(email, '/confirm')
    assert.ok(link.startsWith(`${stack.webUrl}/confirm#token=`), link)
    await page.goto(link)
    await page.getByRole('button', { name: 'Confirm my address' }).waitFor()
    // The token leaves the address bar (and so the history) once the page has read it.
    await page.waitForFunction(() => location.hash === '' && location.pathname === '/confirm')
    assert.equal(await page.locator('#confirm-account').textContent(), email)
    assert.deepEqual(await unlabelledFields(page), [])
    await screenshot(page, 'confirm-email', { commit: true })
    await assertFitsPhone(page)
    await page.getByRole('button', { name: 'Confirm my address' }).click()
    await page.getByText('Your email address is confirmed.').waitFor()
    assert.equal(await page.locator('#unconfirmed').count(), 0)
  })

  it('changes the password: a wrong current one is said once, beside its field; the other browser is signed out', async () => {
    const other = await browser.newContext()
    try {
      const otherPage = await other.newPage()
      await otherPage.goto(`${stack.webUrl}/login`)
      await otherPage.getByLabel('Email').first().fill(email)
      await otherPage.getByLabel('Password').fill(password)
      await otherPage.getByRole('button', { name: 'Sign in', exact: true }).click()
      await otherPage.waitForURL(`${stack.webUrl}/`)

      await page.getByRole('link', { name: 'Password' }).click()
      await page.waitForURL('**/account/password')
      assert.deepEqual(await unlabelledFields(page), [])
      await page.getByLabel('Current password').fill('not my password at all')
      await page.getByLabel('New password', { exact: true }).fill(changedPassword)
      await page.getByRole('button', { name: 'Change password' }).click()
      await page.locator('#password-current-error').getByText('The password is not right.').waitFor()
      assert.deepEqual(await shownErrors(page), ['The password is not right.'], 'shown once, beside its field')
      assert.equal(await page.locator('#password-current').getAttribute('aria-invalid'), 'true')
      await screenshot(page, 'change-password-error', { commit: true })
      await assertFitsPhone(page)

      await page.getByLabel('Current password').fill(password)
      await page.getByRole('button', { name: 'Change password' }).click()
      await page.getByText('Your password was changed.').waitFor()
      assert.deepEqual(await shownErrors(page), [])

      // The other browser's session ended; this one stays.
      const elsewhere = await otherPage.request.get(`${stack.webUrl}/v1/auth/session`)
      assert.equal(elsewhere.status(), 401)
      const here = await page.request.get(`${stack.webUrl}/v1/auth/session`)
      assert.equal(here.status(), 200)
    } finally {
      await other.close()
    }
  })

  it('forgets the password, asks for a link by keyboard alone, and resets it by the mailed link', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.waitForURL('**/login')
    await page.getByRole('link', { name: 'Forgot your password?' }).click()
    await page.waitForURL('**/forgot-password')
    assert.deepEqual(await unlabelledFields(page), [])
    // Keyboard alone: Tab to the field, type, Enter.
    for (let presses = 0; presses < 10; presses++) {
      await page.keyboard.press('Tab')
      if (await page.evaluate(() => document.activeElement?.id === 'forgot-email')) break
    }
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'forgot-email')
    assert.ok(await focusIsVisible(page), 'focus on the email field is visible')
    await page.keyboard.type(email)
    await page.keyboard.press('Enter')
    await page.getByText('If an account holds this address, we emailed it a link').waitFor()
    await screenshot(page, 'forgot-password', { commit: true })
    await assertFitsPhone(page)

    const link = await stack.mailedLink(email, '/reset')
    assert.ok(link.startsWith(`${stack.webUrl}/reset#token=`), link)
    await page.goto(link)
    await page.waitForFunction(() => location.hash === '' && location.pathname === '/reset')
    assert.deepEqual(await unlabelledFields(page), [])
    await page.getByLabel('New password', { exact: true }).fill('password123')
    await page.getByRole('button', { name: 'Set new password' }).click()
    await page.locator('#reset-password-error').getByText('too common').waitFor()
    assert.equal((await shownErrors(page)).length, 1, 'shown once, beside its field')
    await screenshot(page, 'reset-password', { commit: true })
    await assertFitsPhone(page)
    await page.getByLabel('New password', { exact: true }).fill(resetPassword)
    await page.getByRole('button', { name: 'Set new password' }).click()
    await page.getByText('Your password was changed, and every session of your account was signed out.').waitFor()
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'reset-continue')
    await page.getByRole('link', { name: 'Continue' }).click()
    await page.waitForURL(`${stack.webUrl}/`)
    assert.equal(await page.locator('#signed-in-as').textContent(), email)

    // The link worked once.
    await page.goto(link)
    await page.getByLabel('New password', { exact: true }).fill(`${resetPassword}!`)
    await page.getByRole('button', { name: 'Set new password' }).click()
    await page.getByText('This link is not valid or was already used.').waitFor()
  })
})
