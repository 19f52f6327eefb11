// The pages of a person's own account: forgotten password, reset by link, confirmation of the
// address (or taking it back), change of password. Each field has its label and its own error
// slot (`.field-error`, named by aria-describedby), so an error is shown once, beside its field.

const alertRegion = (id: string) => `<div class="error" role="alert" id="${id}"></div>`
const statusRegion = (id: string) => `<div class="status" role="status" aria-live="polite" id="${id}"></div>`
const passwordHint = 'At least 10 characters, and not a common password.'

/** A labelled input with its error slot (and hint, if any) named by aria-describedby. */
function field(input: {
  id: string
  name: string
  label: string
  type?: string
  autocomplete: string
  hint?: string
  minlength?: number
}): string {
  const describedBy = [input.hint ? `${input.id}-hint` : '', `${input.id}-error`].filter(Boolean).join(' ')
  return `<label for="${input.id}">${input.label}</label>
<input id="${input.id}" name="${input.name}" type="${input.type ?? 'password'}" autocomplete="${input.autocomplete}" required${input.minlength ? ` minlength="${input.minlength}"` : ''} aria-describedby="${describedBy}">
${input.hint ? `<p class="hint" id="${input.id}-hint">${input.hint}</p>\n` : ''}<p class="field-error" id="${input.id}-error"></p>`
}

const newPasswordField = (id: string, label = 'New password') =>
  field({ id, name: 'password', label, autocomplete: 'new-password', hint: passwordHint, minlength: 10 })

export const forgotPasswordView = `<section class="card narrow" aria-labelledby="forgot-title">
<h1 id="forgot-title">Reset your password</h1>
<p>Enter the email address of your account. We email it a link to choose a new password.</p>
<form id="forgot-form">
${field({ id: 'forgot-email', name: 'email', label: 'Email', type: 'email', autocomplete: 'username' })}
${alertRegion('forgot-error')}
<button type="submit" id="forgot-submit">Email me a link</button>
</form>
${statusRegion('forgot-status')}
<p><a href="/login">Back to sign in</a></p>
</section>`

export const resetView = `<section class="card narrow" aria-labelledby="reset-title">
<h1 id="reset-title">Choose a new password</h1>
${alertRegion('reset-link-error')}
<form id="reset-form">
<p>Setting a new password signs your account out everywhere.</p>
${newPasswordField('reset-password')}
${alertRegion('reset-error')}
<button type="submit" id="reset-submit">Set new password</button>
</form>
<div id="reset-done" hidden>
<p class="success" id="reset-done-message">Your password was changed, and every session of your account was signed out.</p>
<p><a class="button" id="reset-continue" href="/">Continue</a></p>
</div>
<p><a href="/forgot-password">Ask for a new link</a></p>
</section>`

export const confirmView = `<section class="card narrow" aria-labelledby="confirm-title">
<h1 id="confirm-title">Confirm your email address</h1>
${statusRegion('confirm-status')}
${alertRegion('confirm-link-error')}
<div id="confirm-signed-in" hidden>
<p>You are signed in as <strong id="confirm-account"></strong>. Confirm that this address is yours.</p>
${alertRegion('confirm-signed-in-error')}
<button type="button" id="confirm-button">Confirm my address</button>
</div>
<form id="confirm-password-form" hidden>
<p>Enter the password of the account that holds this address to confirm it.</p>
${field({ id: 'confirm-password', name: 'password', label: 'Password', autocomplete: 'current-password' })}
${alertRegion('confirm-password-error')}
<button type="submit" id="confirm-password-submit">Confirm</button>
</form>
<div id="confirm-reclaim" class="alternative" hidden>
<h2 id="confirm-reclaim-title">Did not create this account, or forgot its password?</h2>
<p>This link shows the address is yours. Choose a new password: whoever else signed in to the account is signed out, and the account leaves every workspace it belongs to (one it alone owns is deleted). If you made the account and want to keep its workspaces, confirm with its password instead.</p>
<form id="confirm-reclaim-form" aria-labelledby="confirm-reclaim-title">
${newPasswordField('confirm-new-password')}
${alertRegion('confirm-reclaim-error')}
<button type="submit" class="secondary" id="confirm-reclaim-submit">Take the address back</button>
</form>
</div>
<div id="confirm-resend" hidden>
<p>We emailed a confirmation link to <strong id="confirm-resend-email"></strong> when you signed up. Until you open it, you cannot join workspaces or sign in with SSO.</p>
${alertRegion('confirm-resend-error')}
<button type="button" id="confirm-resend-button">Email me a new link</button>
</div>
<div id="confirm-done" hidden>
<p class="success" id="confirm-done-message"></p>
<p><a class="button" id="confirm-continue" href="/">Continue</a></p>
</div>
</section>`

export const changePasswordView = `<section class="card narrow" aria-labelledby="password-title">
<h1 id="password-title">Change your password</h1>
<form id="password-form">
${field({ id: 'password-current', name: 'currentPassword', label: 'Current password', autocomplete: 'current-password' })}
${field({ id: 'password-new', name: 'newPassword', label: 'New password', autocomplete: 'new-password', hint: `${passwordHint} Your other sessions are signed out.`, minlength: 10 })}
${alertRegion('password-error')}
<button type="submit" id="password-submit">Change password</button>
</form>
${statusRegion('password-status')}
</section>`
