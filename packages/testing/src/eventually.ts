/**
 * Polls `attempt` until it returns something other than `undefined`, and returns that. A bounded
 * wait, not a sleep: it returns as soon as the condition holds, and fails with `describe()`'s
 * account of the last state (and whatever logs it gathers) once `timeoutMs` has passed.
 */
export async function eventually<T>(
  what: string,
  attempt: () => Promise<T | undefined>,
  options: { timeoutMs?: number; intervalMs?: number; describe?: () => string | Promise<string> } = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 60_000
  const deadline = Date.now() + timeoutMs
  while (true) {
    const result = await attempt()
    if (result !== undefined) return result
    if (Date.now() > deadline) {
      const details = options.describe ? `\n${await options.describe()}` : ''
      throw new Error(`${what} did not happen within ${timeoutMs} ms${details}`)
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 100))
  }
}
