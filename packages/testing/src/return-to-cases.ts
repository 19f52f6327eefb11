// The cases of the one returnTo rule (@gatehouse/server/return-to.js), for every place that runs
// it: auth in Node, and the login page in Chromium. `null`: refused (the caller's fallback).

export const returnToCases: readonly { value: string; expected: string | null }[] = [
  { value: '/', expected: '/' },
  { value: '/workspaces/42?tab=members#sso', expected: '/workspaces/42?tab=members#sso' },
  { value: '/a/./b/../c', expected: '/a/c' },
  // Kept percent-encoded, so it stays a path of this origin.
  { value: '/%09/evil.example', expected: '/%09/evil.example' },
  { value: 'https://evil.example/', expected: null },
  { value: '//evil', expected: null },
  { value: '//evil.example/x', expected: null },
  { value: '/\\evil', expected: null },
  { value: '/\\evil.example', expected: null },
  // `/login?returnTo=/%09/evil.example` hands the page a real tab, which browsers strip.
  { value: '/\t/evil.example', expected: null },
  { value: '/\n/evil.example', expected: null },
  { value: '/.//evil.example', expected: null },
  { value: '/x/..//evil.example', expected: null },
  { value: '/.\\/evil.example', expected: null },
  { value: 'javascript:alert(1)', expected: null },
  { value: '', expected: null },
  { value: `/${'a'.repeat(511)}`, expected: `/${'a'.repeat(511)}` },
  { value: `/${'a'.repeat(512)}`, expected: null },
]
