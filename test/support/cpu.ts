// CPU time as Linux accounts it, for benchmarks that say where a run's CPU went: one process's
// (another program's, not this one's) and the whole machine's.
import { readFileSync } from 'node:fs'

// USER_HZ: the unit of /proc's tick counts, 100 on every Linux architecture Node runs on.
const millisecondsPerTick = 10

/** User plus system CPU a process has used so far, in milliseconds (its threads included). */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // Fields after the command name, which is parenthesised and may itself hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) * millisecondsPerTick
}

/** Busy and total CPU time of the machine so far (all cores), in milliseconds. */
export function machineCpuMs(): { busy: number; total: number } {
  const [line = ''] = readFileSync('/proc/stat', 'utf8').split('\n')
  const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number)
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0)
  const total = ticks.reduce((sum, value) => sum + value, 0)
  return { busy: (total - idle) * millisecondsPerTick, total: total * millisecondsPerTick }
}
