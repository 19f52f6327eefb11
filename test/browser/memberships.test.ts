// Issue 13's journey in a real browser (Debian's Chromium headless shell, driven by
// playwright-core): an owner changes a role, removes a member, transfers the ownership and leaves;
// a person ends another of their sessions. Each destructive step asks first, in a dialog the keyboard can answer.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { eventually, uniqueSuffix } from '@gatehouse/testing'
import type { Browser, Page } from 'playwright-core'
import { type Stack, startStack } from '../support/stack.ts'
import { focusIsVisible, launchChromium, password, screenshot } from './browser.ts'

describe('the browser journey: members removed, roles changed, ownership moved, sessions ended', {
  timeout: 240_000,
}, () => {
  let stack: Stack
  let browser: Browser
  const suffix = uniqueSuffix()
  const owner = `olivia-${suffix}@example.test`
  const bob = `bob-${suffix}@example.test`
  const carol = `carol-${suffix}@example.test`
  const workspaceName = `Globex ${suffix}`
  let workspaceUrl = ''
  const pages: Record<string, Page> = {}

  before(async () => {
    stack = await startStack()
    browser = await launchChromium()
  })

  after(async () => {
    await browser?.close()
    await stack?.stop()
  })

  async function newPage(width = 1280) {
    const context = await browser.newContext({ viewport: { width, height: 900 } })
    return context.newPage()
  }

  async function signUp(page: Page, email: string) {
    await page.goto(`${stack.webUrl}/signup`)
    await page.getByLabel('Email').fill(email)
    await page.getByLabel('Password', { exact: true }).fill(password)
    await page.getByRole('button', { name: 'Create account' }).click()
    await page.waitForURL(`${stack.webUrl}/`)
  }

  async function acceptInvitation(page: Page, email: string) {
    await page.goto(await stack.invitationLink(email))
    // The token leaves the address bar once read, and the tab keeps it: a reload still shows the invitation.
    await page.waitForFunction(() => location.hash === '' && location.pathname === '/invite')
    await page.reload()
    await page.getByLabel('Password', { exact: true }).first().fill(password)
    await page.getByRole('button', { name: 'Create account and join' }).click()
    await page.getByText(`You are now a member of ${workspaceName}`).waitFor({ timeout: 20_000 })
  }

  /** The page's width, and the elements that stick out past the viewport (for the failure message). */
  const pageWidth = (page: Page) =>
    page.evaluate(() => ({
      width: document.documentElement.scrollWidth,
      wide: [...document.querySelectorAll('body *')]
        .filter((node) => node.getBoundingClientRect().right > window.innerWidth)
        .slice(0, 5)
        .map((node) => `${node.tagName.toLowerCase()}#${node.id}.${node.className}`),
    }))

  const memberRow = (page: Page, email: string) => page.locator(`tr[data-member-email="${email}"]`)

  it('the owner invites bob and carol, who accept', async () => {
    const page = await newPage()
    pages.owner = page
    await signUp(page, owner)
    await page.getByLabel('Workspace name').fill(workspaceName)
    await page.getByRole('button', { name: 'Create workspace' }).click()
    await page.waitForURL('**/workspaces/*')
    workspaceUrl = page.url()
    for (const email of [bob, carol]) {
      await page.getByLabel('Email to invite').fill(email)
      await page.getByRole('button', { name: 'Send invitation' }).click()
      await page.getByText(`Invitation sent to ${email}.`).waitFor()
    }
    pages.bob = await newPage()
    pages.carol = await newPage()
    await acceptInvitation(pages.bob, bob)
    await acceptInvitation(pages.carol, carol)
  })

  it('the owner makes carol an admin', async () => {
    const page = pages.owner as Page
    await page.goto(workspaceUrl)
    const row = memberRow(page, carol)
    await row.getByText('Member', { exact: true }).waitFor()
    await row.getByRole('button', { name: `Make admin ${carol}` }).click()
    await page.getByText(`${carol} is now an admin.`).waitFor()
    await memberRow(page, carol).getByText('Admin', { exact: true }).waitFor()
  })

  it('the owner removes bob after confirming; bob loses the workspace at once', async () => {
    const page = pages.owner as Page
    // Cancelling (Escape) changes nothing, and the focus returns to the button.
    const remove = memberRow(page, bob).getByRole('button', { name: `Remove ${bob}` })
    await remove.focus()
    await page.keyboard.press('Enter')
    const dialog = page.getByRole('dialog', { name: `Remove ${bob}?` })
    await dialog.waitFor()
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'confirm-cancel')
    assert.ok(await focusIsVisible(page), 'the focus in the dialog is visible')
    await page.keyboard.press('Escape')
    await dialog.waitFor({ state: 'detached' })
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), `Remove ${bob}`)
    await memberRow(page, bob).waitFor()

    await remove.click()
    await dialog.waitFor()
    await screenshot(page, 'member-remove-confirmation', { commit: true })
    await page.keyboard.press('Shift+Tab')
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'confirm-yes')
    await page.keyboard.press('Enter')
    await page.getByText(`${bob} was removed from the workspace.`).waitFor()
    await memberRow(page, bob).waitFor({ state: 'detached' })
    await screenshot(page, 'members-after-removal', { commit: true })
    // The invitation service hears of the removal through auth's events a moment later.
    await eventually('bob’s invitation to show the removal', async () => {
      await page.goto(workspaceUrl)
      return await page
        .locator(`tr[data-email="${bob}"]`)
        .getByText('Removed')
        .waitFor({ timeout: 2_000 })
        .then(
          () => true,
          () => undefined,
        )
    })

    const bobPage = pages.bob as Page
    await bobPage.goto(workspaceUrl)
    await bobPage.getByText('You are not a member of this workspace.').waitFor()

    // The audit trail has the role change and the removal, made by the owner.
    await page.goto(`${workspaceUrl}/audit`)
    for (const action of ['membership.role_changed', 'membership.removed']) {
      await page.locator('#audit-body tr', { hasText: action }).filter({ hasText: owner }).first().waitFor()
    }
    await page.goto(workspaceUrl)
  })

  it('the owner cannot leave as the last owner, and is told once, beside the button', async () => {
    const page = pages.owner as Page
    await page.getByRole('button', { name: 'Leave this workspace' }).click()
    await page.getByRole('button', { name: 'Leave workspace' }).click()
    const error = page.locator('#leave-error')
    await error.getByText('A workspace always keeps an owner.', { exact: false }).waitFor()
    assert.equal(await page.getByText('A workspace always keeps an owner.', { exact: false }).count(), 1)
  })

  it('the owner transfers the ownership to carol and becomes an admin, then leaves', async () => {
    const page = pages.owner as Page
    await memberRow(page, carol)
      .getByRole('button', { name: `Transfer ownership to ${carol}` })
      .click()
    await page.getByRole('dialog', { name: `Make ${carol} the owner?` }).waitFor()
    await screenshot(page, 'ownership-transfer-confirmation', { commit: true })
    await page.getByRole('button', { name: 'Transfer ownership', exact: true }).click()
    await page.waitForLoadState('load')
    await memberRow(page, carol).getByText('Owner', { exact: true }).waitFor()
    await page.getByText(`signed in as ${owner}, Admin of this workspace`, { exact: false }).waitFor()

    await page.getByRole('button', { name: 'Leave this workspace' }).click()
    await page.getByRole('dialog', { name: `Leave ${workspaceName}?` }).waitFor()
    await page.getByRole('button', { name: 'Leave workspace' }).click()
    await page.waitForURL(`${stack.webUrl}/`)
    await page.getByText('You are not in a workspace yet').waitFor()

    const carolPage = pages.carol as Page
    await carolPage.goto(workspaceUrl)
    await memberRow(carolPage, carol).getByText('Owner', { exact: true }).waitFor()
    assert.equal(await memberRow(carolPage, owner).count(), 0)
  })

  it('carol ends her session in another browser from her sessions page, on a phone-sized screen', async () => {
    const other = await newPage()
    await other.goto(`${stack.webUrl}/login`)
    await other.locator('#login-email').fill(carol)
    await other.locator('#login-password').fill(password)
    await other.getByRole('button', { name: 'Sign in', exact: true }).click()
    await other.waitForURL(`${stack.webUrl}/`)

    const page = await newPage(390)
    await page.goto(`${stack.webUrl}/login`)
    await page.locator('#login-email').fill(carol)
    await page.locator('#login-password').fill(password)
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
    await page.waitForURL(`${stack.webUrl}/`)
    await page.getByRole('link', { name: 'Your sessions' }).click()
    await page.waitForURL('**/account/sessions')
    const rows = page.locator('#sessions-body tr')
    await rows.nth(2).waitFor()
    assert.equal(await rows.count(), 3, 'this browser, the other one and the one she accepted the invitation in')
    await page.locator('tr[data-current="true"]').getByText('(this browser)', { exact: false }).waitFor()
    const { width, wide } = await pageWidth(page)
    assert.ok(width <= 390, `the sessions page is ${width} px wide: ${wide.join(', ')}`)
    await screenshot(page, 'sessions', { commit: true })

    const another = page.locator('tr[data-current="false"]').first()
    const otherId = await another.getAttribute('data-session-id')
    await another.getByRole('button', { name: /^End session/ }).click()
    await page.getByRole('dialog', { name: 'End this session?' }).waitFor()
    await page.getByRole('button', { name: 'End session', exact: true }).click()
    await page.getByText('has ended.', { exact: false }).waitFor()
    assert.equal(await page.locator(`tr[data-session-id="${otherId}"]`).count(), 0)
    assert.equal((await other.request.get(`${stack.webUrl}/v1/auth/session`)).status(), 401)

    await page.getByRole('button', { name: 'End all other sessions' }).click()
    await page.getByRole('button', { name: 'End all other sessions' }).last().click()
    await page.getByText('One other session has ended.').waitFor()
    assert.equal(await rows.count(), 1)
    assert.equal((await (pages.carol as Page).request.get(`${stack.webUrl}/v1/auth/session`)).status(), 401)
    await screenshot(page, 'sessions-after-ending', { commit: true })

    const members = await newPage(390)
    await members.goto(`${stack.webUrl}/login`)
    await members.locator('#login-email').fill(carol)
    await members.locator('#login-password').fill(password)
    await members.getByRole('button', { name: 'Sign in', exact: true }).click()
    await members.waitForURL(`${stack.webUrl}/`)
    await members.goto(workspaceUrl)
    await memberRow(members, carol).waitFor()
    const membersWidth = await pageWidth(members)
    assert.ok(
      membersWidth.width <= 390,
      `the members page is ${membersWidth.width} px wide: ${membersWidth.wide.join(', ')}`,
    )
    await screenshot(members, 'members-phone', { commit: true })
  })
})
