/**
 * For `it(name, { skip: skipUnlessInstalled(missing) }, …)` in tests that need a system package:
 * outside CI a missing tool skips the test with the one-line reason (which says how to install it);
 * in CI (`CI` set, as `.ci/run` does) the test runs and fails, so a missing package is never a
 * silent pass.
 */
export function skipUnlessInstalled(missing: string | null): string | false {
  if (missing === null || process.env.CI) return false
  return missing
}
