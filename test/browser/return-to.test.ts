// The login page's returnTo in a real browser: the page runs auth's own rule (served from
// @gatehouse/server), so it keeps exactly what auth keeps; and `/login?returnTo=/%09/evil.example`,
// which hands the page a tab that Chromium's URL parser strips (`//evil.example`), leaves a person
// who signs in on this origin.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { sameOriginPath } from '@gatehouse/server/return-to.js'
import { returnToCases, uniqueEmail } from '@gatehouse/testing'
import type { Browser, Page } from 'playwright-core'
import type { Stack } from '../support/stack.ts'
import { password, startStackAndBrowser } from './browser.ts'

describe('the login page sends people only where auth would', { timeout: 120_000 }, () => {
  let stack: Stack
  let browser: Browser
  let page: Page

  before(async () => {
    ;[stack, browser] = await startStackAndBrowser({ devIdp: false })
    page = await browser.newPage()
  })

  after(async () => {
    await browser?.close()
    await stack?.stop()
  })

  it('keeps and refuses the same returnTo values as auth, case by case', async () => {
    await page.goto(`${stack.webUrl}/login`)
    const inBrowser = await page.evaluate(
      async ({ module, values }) => {
        const { safeReturnTo } = await import(module)
        return values.map((value) => safeReturnTo(value, null))
      },
      { module: '/assets/api.js', values: returnToCases.map(({ value }) => value) },
    )
    assert.deepEqual(
      inBrowser,
      returnToCases.map(({ expected }) => expected),
    )
    assert.deepEqual(
      inBrowser,
      returnToCases.map(({ value }) => sameOriginPath(value, stack.webUrl)),
    )
  })

  it('leaves a person on this origin after signing in from /login?returnTo=/%09/evil.example', async () => {
    const email = uniqueEmail('tab')
    const signedUp = await page.evaluate(
      async (body) =>
        (await fetch('/v1/auth/signup', { method: 'POST', headers: { 'content-type': 'application/json' }, body }))
          .status,
      JSON.stringify({ email, password }),
    )
    assert.equal(signedUp, 201)
    await page.goto(`${stack.webUrl}/login?returnTo=/%09/evil.example`)
    await page.getByLabel('Email').first().fill(email)
    await page.getByLabel('Password').fill(password)
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
    await page.waitForURL((url) => url.pathname === '/' || url.origin !== stack.webUrl)
    assert.equal(new URL(page.url()).origin, stack.webUrl)
    assert.equal(new URL(page.url()).pathname, '/')
  })
})
