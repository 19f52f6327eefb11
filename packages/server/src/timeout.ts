/**
 * `work`'s result, or a rejection with `timeoutError()` once `milliseconds` pass first. The work
 * itself is not cancelled (a promise cannot be): callers give up waiting, and the timer never
 * outlives the race.
 */
export async function withTimeout<T>(work: Promise<T>, milliseconds: number, timeoutError: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timeoutError()), milliseconds)
  })
  try {
    return await Promise.race([work, timeout])
  } finally {
    clearTimeout(timer)
  }
}
