/**
 * A person-readable device from a User-Agent header: browser and operating system, enough to tell
 * one's sessions apart ("Firefox on Windows"). The header is the client's to write: only its first
 * 512 characters are read (what a session row keeps), with patterns that never backtrack.
 */
export interface Device {
  browser: string | null
  os: string | null
  description: string
}

const maximumUserAgentLength = 512

// Order matters: Edge and Opera say "Chrome", Chrome says "Safari".
const browsers: [RegExp, string][] = [
  [/\bEdg(?:e|A|iOS)?\/\d/, 'Edge'],
  [/\bOPR\/\d/, 'Opera'],
  [/\bFirefox\/\d|\bFxiOS\/\d/, 'Firefox'],
  [/\b(?:Headless)?Chrom(?:e|ium)\/\d|\bCriOS\/\d/, 'Chrome'],
  [/\bVersion\/\d[\d.]* (?:Mobile\/\w+ )?Safari\//, 'Safari'],
  [/\bcurl\/\d/, 'curl'],
]

const systems: [RegExp, string][] = [
  [/\b(?:iPhone|iPad|iPod)\b/, 'iOS'],
  [/\bAndroid\b/, 'Android'],
  [/\bCrOS\b/, 'ChromeOS'],
  [/\bWindows\b/, 'Windows'],
  [/\bMac OS X\b|\bMacintosh\b/, 'macOS'],
  [/\bLinux\b/, 'Linux'],
]

const firstMatch = (patterns: [RegExp, string][], text: string) =>
  patterns.find(([pattern]) => pattern.test(text))?.[1] ?? null

export function deviceOf(userAgent: string | null): Device {
  const text = (userAgent ?? '').slice(0, maximumUserAgentLength)
  const browser = firstMatch(browsers, text)
  const os = firstMatch(systems, text)
  const description =
    browser && os ? `${browser} on ${os}` : (browser ?? os ?? (text ? 'Unknown device' : 'No device information'))
  return { browser, os, description }
}
