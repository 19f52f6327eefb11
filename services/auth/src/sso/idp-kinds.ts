// The identity provider a connection is set up with. It changes no SAML rule: it picks the guidance
// the SSO settings page shows and the advice a refusal gives (Entra's screens, or IdP-neutral words).
import type { SamlError, SamlErrorReason } from '@gatehouse/saml'

export const idpKinds = ['entra', 'okta', 'google', 'other'] as const
export type IdpKind = (typeof idpKinds)[number]

// For the refusals whose @gatehouse/saml message ends in advice about Entra's screens: the same
// advice in SAML terms every IdP's admin console maps to.
const neutralAdvice: Partial<Record<SamlErrorReason, string>> = {
  nameid_missing:
    'In your identity provider\'s settings for this application, send the person\'s email address as the NameID, with NameID format "Email address" (urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress).',
  nameid_not_email:
    'In your identity provider\'s settings for this application, send the person\'s email address as the NameID, with NameID format "Email address" (urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress).',
  encrypted_assertion_unsupported:
    "In your identity provider's settings for this application, turn off assertion encryption.",
  signature_invalid:
    "If your identity provider's signing certificate was renewed, add the new one to this connection (or save its current metadata).",
  weak_algorithm: "In your identity provider's settings for this application, choose SHA-256 as the signing algorithm.",
  issuer_mismatch: "Check the IdP Entity ID (issuer) saved in this workspace's SSO settings.",
  signature_missing:
    "In your identity provider's settings for this application, have it sign the assertion (or the response and the assertion).",
  destination_mismatch:
    "In your identity provider's settings for this application, set the ACS URL to the one shown in this workspace's SSO settings.",
  recipient_mismatch:
    "In your identity provider's settings for this application, set the ACS URL to the one shown in this workspace's SSO settings.",
  audience_mismatch:
    "In your identity provider's settings for this application, set the SP Entity ID (audience) to the one shown in this workspace's SSO settings.",
  unsolicited:
    'This sign-in was started from the identity provider (its app dashboard or a test button), which this connection does not allow. Start from the login page, or allow IdP-initiated sign-in in the SSO settings.',
}

/**
 * The message a refused person (and the admin they tell) sees. For a connection that is not Entra,
 * sentences that speak of Entra's screens are replaced by the neutral advice for the same reason;
 * the diagnosis (what was received, what was expected) is kept.
 */
export function refusalMessage(error: SamlError, idpKind: IdpKind): string {
  const advice = idpKind === 'entra' ? undefined : neutralAdvice[error.reason]
  if (advice === undefined) return error.message
  const diagnosis = error.message.split(/(?<=\.)\s+/).filter((sentence) => !/\bEntra\b/.test(sentence))
  return [...diagnosis, advice].join(' ')
}

// @gatehouse/saml words its setup errors and warnings in the terms of Entra's portal; for another
// IdP they are put in the SAML terms its console maps to. Most specific phrases first.
const neutralTerms: [RegExp, string][] = [
  [/the "Certificate \(Base64\)" (downloaded )?from Entra/g, "the IdP's signing certificate"],
  [/\("Certificate \(Base64\)" in Entra\)/g, "(the IdP's signing certificate)"],
  [/Download "Federation Metadata XML" from Entra/g, "Download your identity provider's metadata"],
  [/the one of your Entra application/g, 'the one of this application'],
  [/Entra's new certificate/g, "the identity provider's new certificate"],
  [/(Microsoft )?Entra Identifier/g, 'IdP Entity ID'],
  [/Login URL/g, 'IdP Single Sign-On URL'],
  [/from Entra/g, 'from your identity provider'],
]

/** A setup error or warning as the admin of `idpKind` should read it. */
export function inIdpTerms(message: string, idpKind: IdpKind): string {
  if (idpKind === 'entra') return message
  return neutralTerms.reduce((text, [pattern, replacement]) => text.replace(pattern, replacement), message)
}
