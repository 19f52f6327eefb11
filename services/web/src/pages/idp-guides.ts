// What the SSO settings page says for each identity provider: the names that IdP's admin console
// gives the values Gatehouse shows and the values to paste back, and where to find them. The fields
// are the same for every IdP (a SAML 2.0 connection needs the same three things); only the words
// and the steps differ. Kinds are auth's `idpKind` values.

export type IdpKind = 'entra' | 'okta' | 'google' | 'other'

export interface IdpGuide {
  kind: IdpKind
  /** The IdP's name, as on the picker. */
  name: string
  /** "…’s values" in statuses and headings. */
  possessive: string
  /** The SP values, under the names the IdP's console uses. */
  spEntityId: string
  spAcsUrl: string
  /** How the SP metadata download helps with this IdP (HTML). */
  spMetadataHint: string
  /** Setting up the application in the IdP (HTML, one item per step). */
  setupSteps: string[]
  /** The IdP's values, under the names its console uses. */
  idpSsoUrl: string
  idpEntityId: string
  idpCertificate: string
  idpCertificateFile: string
  idpMetadataFile: string
  /** The IdP's federation metadata URL, under its console's name. */
  idpMetadataUrl: string
  /** Where those values are in the IdP's console (HTML, one item per step). */
  findSteps: string[]
  /** Where an IdP-initiated sign-in starts from. */
  idpInitiatedFrom: string
}

export const idpGuides: IdpGuide[] = [
  {
    kind: 'entra',
    name: 'Microsoft Entra ID',
    possessive: 'Microsoft Entra’s',
    spEntityId: 'Identifier (Entity ID)',
    spAcsUrl: 'Reply URL (Assertion Consumer Service URL)',
    spMetadataHint: 'Entra’s “Upload metadata file” fills both values from it.',
    setupSteps: [
      'Go to <strong>Enterprise applications</strong> → <strong>New application</strong> → <strong>Create your own application</strong>. Name it, choose <em>Integrate any other application you don’t find in the gallery (Non-gallery)</em>, and click <strong>Create</strong>.',
      'Open <strong>Single sign-on</strong> and choose <strong>SAML</strong>.',
      'In <strong>Basic SAML Configuration</strong> click <strong>Edit</strong>, paste the <em>Identifier (Entity ID)</em> and the <em>Reply URL</em>, and <strong>Save</strong>.',
      'Leave <strong>Attributes &amp; Claims</strong> as Entra sets them: Gatehouse reads its default <em>givenname</em>, <em>surname</em> and <em>emailaddress</em> claims as they are. Only if your people’s user principal name is not their email address, edit <em>Unique User Identifier (Name ID)</em> to <code>user.mail</code> (format <strong>Email address</strong>).',
      'In <strong>Users and groups</strong>, assign the people who should sign in.',
    ],
    idpSsoUrl: 'Login URL',
    idpEntityId: 'Microsoft Entra Identifier',
    idpCertificate: 'Certificate (Base64)',
    idpCertificateFile: 'Certificate file (.cer)',
    idpMetadataFile: 'Federation Metadata XML file',
    idpMetadataUrl: 'App Federation Metadata Url',
    findSteps: [
      'In <strong>SAML Certificates</strong>, next to <em>Certificate (Base64)</em>, click <strong>Download</strong>.',
      'In <strong>Set up</strong> <em>your application</em>, copy the <strong>Login URL</strong> and the <strong>Microsoft Entra Identifier</strong>.',
      'Or, instead of the three values, upload Entra’s <em>Federation Metadata XML</em> below.',
    ],
    idpInitiatedFrom: 'Entra (My Apps tile)',
  },
  {
    kind: 'okta',
    name: 'Okta',
    possessive: 'Okta’s',
    spEntityId: 'Audience URI (SP Entity ID)',
    spAcsUrl: 'Single sign-on URL',
    spMetadataHint: 'Keep it for your records: Okta takes the two values above.',
    setupSteps: [
      'In the Okta Admin Console, go to <strong>Applications</strong> → <strong>Applications</strong> → <strong>Create App Integration</strong>, choose <strong>SAML 2.0</strong> and click <strong>Next</strong>.',
      'Enter an <em>App name</em> and click <strong>Next</strong>.',
      'In <strong>Configure SAML</strong>, paste the <em>Single sign-on URL</em> (keep <em>Use this for Recipient URL and Destination URL</em> checked) and the <em>Audience URI (SP Entity ID)</em>.',
      'Set <em>Name ID format</em> to <strong>EmailAddress</strong> and <em>Application username</em> to <strong>Email</strong>.',
      'Under <strong>Attribute Statements</strong>, add <code>firstName</code> = <code>user.firstName</code> and <code>lastName</code> = <code>user.lastName</code>; click <strong>Next</strong>, then <strong>Finish</strong>.',
      'On the <strong>Assignments</strong> tab, assign the people who should sign in.',
    ],
    idpSsoUrl: 'Identity Provider Single Sign-On URL',
    idpEntityId: 'Identity Provider Issuer',
    idpCertificate: 'X.509 Certificate',
    idpCertificateFile: 'Certificate file (.cert)',
    idpMetadataFile: 'Identity Provider metadata file',
    idpMetadataUrl: 'Metadata URL',
    findSteps: [
      'On the application’s <strong>Sign On</strong> tab, click <strong>View SAML setup instructions</strong>.',
      'Copy the <strong>Identity Provider Single Sign-On URL</strong> and the <strong>Identity Provider Issuer</strong>, and download the <strong>X.509 Certificate</strong>.',
      'Or save the document at the <em>Metadata URL</em> (Identity Provider metadata) and upload it below.',
    ],
    idpInitiatedFrom: 'Okta (the app’s tile on the End-User Dashboard)',
  },
  {
    kind: 'google',
    name: 'Google Workspace',
    possessive: 'Google’s',
    spEntityId: 'Entity ID',
    spAcsUrl: 'ACS URL',
    spMetadataHint: 'Keep it for your records: Google takes the two values above.',
    setupSteps: [
      'In the Google Admin console, go to <strong>Apps</strong> → <strong>Web and mobile apps</strong> → <strong>Add app</strong> → <strong>Add custom SAML app</strong>. Enter an <em>App name</em> and click <strong>Continue</strong>.',
      'On <strong>Google Identity Provider details</strong>, keep the <em>SSO URL</em>, the <em>Entity ID</em> and the <em>Certificate</em> for step 2 (or click <strong>Download Metadata</strong>), then click <strong>Continue</strong>.',
      'In <strong>Service provider details</strong>, paste the <em>ACS URL</em> and the <em>Entity ID</em>; set <em>Name ID format</em> to <strong>EMAIL</strong> and <em>Name ID</em> to <strong>Basic Information › Primary email</strong>; click <strong>Continue</strong>.',
      'In <strong>Attribute mapping</strong>, map <em>First name</em> to <code>firstName</code> and <em>Last name</em> to <code>lastName</code>, then click <strong>Finish</strong>.',
      'Under <strong>User access</strong>, turn the app <strong>ON</strong> for the people (organizational units or groups) who should sign in.',
    ],
    idpSsoUrl: 'SSO URL',
    idpEntityId: 'Entity ID',
    idpCertificate: 'Certificate',
    idpCertificateFile: 'Certificate file (.pem)',
    idpMetadataFile: 'IdP metadata file',
    idpMetadataUrl: 'IdP metadata URL',
    findSteps: [
      'On <strong>Google Identity Provider details</strong> (or later: the app’s page → <strong>Download metadata</strong>), copy the <strong>SSO URL</strong> and the <strong>Entity ID</strong>.',
      'Download the <strong>Certificate</strong> and choose it below, or paste its text.',
      'Or upload the <em>IdP metadata</em> file Google offers below.',
    ],
    idpInitiatedFrom: 'Google (the app in the Google apps menu)',
  },
  {
    kind: 'other',
    name: 'Other SAML 2.0 IdP',
    possessive: 'your identity provider’s',
    spEntityId: 'SP Entity ID (Audience)',
    spAcsUrl: 'Assertion Consumer Service (ACS) URL, HTTP-POST binding',
    spMetadataHint: 'Most identity providers can import it instead of the two values.',
    setupSteps: [
      'Create a SAML 2.0 service provider (or application) for Gatehouse: import the service provider metadata, or enter the <em>SP Entity ID</em> and the <em>ACS URL</em> (HTTP-POST binding).',
      'Send the person’s email address as the NameID, with format <code>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</code>.',
      'Sign the assertion (or the response) with RSA-SHA256 or stronger.',
      'Optionally send the names as attributes <code>firstName</code> and <code>lastName</code> (or <code>givenName</code> and <code>sn</code>).',
      'Allow the people who should sign in to use the application.',
    ],
    idpSsoUrl: 'IdP Single Sign-On URL (HTTP-Redirect binding)',
    idpEntityId: 'IdP Entity ID (Issuer)',
    idpCertificate: 'IdP signing certificate (PEM or Base64)',
    idpCertificateFile: 'Certificate file',
    idpMetadataFile: 'IdP metadata XML file',
    idpMetadataUrl: 'IdP metadata URL',
    findSteps: [
      'Your identity provider’s metadata holds all three values: its <em>IDPSSODescriptor</em> has the <em>SingleSignOnService</em> location (HTTP-Redirect), the <em>entityID</em> and the signing certificate.',
      'Upload that metadata below, or copy the three values into the form.',
    ],
    idpInitiatedFrom: 'the identity provider (IdP-initiated)',
  },
]

export const defaultIdpKind: IdpKind = 'entra'
