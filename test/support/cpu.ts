// CPU time as Linux accounts it, for benchmarks that say where a run's CPU went: one process's
// (another program's, not this one's) and the whole machine's.
import { readFileSync } from 'node:fs'

// USER_HZ: the unit of /proc's tick counts, 100 on every Linux architecture Node runs on.
const millisecondsPerTick = 10

/** /proc/<pid>/stat's fields after the command name, from the process state (field 3) on. */
function statFields(pid: number | 'self'): number[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // The command name is parenthesised and may itself hold spaces.
  return stat
    .slice(stat.lastIndexOf(')') + 2)
    .split(' ')
    .map(Number)
}

/** User plus system CPU a process has used so far, in milliseconds (its threads included). */
export function processCpuMs(pid: number): number {
  const fields = statFields(pid)
  return ((fields[11] ?? 0) + (fields[12] ?? 0)) * millisecondsPerTick
}

/**
 * This process's own CPU so far, the CPU of the children it has waited for (with theirs), and how
 * long ago it started, all in milliseconds.
 */
export function ownUsage(): { cpuMs: number; childrenCpuMs: number; wallMs: number } {
  const fields = statFields('self')
  const [uptimeSeconds = '0'] = readFileSync('/proc/uptime', 'utf8').split(' ')
  return {
    cpuMs: ((fields[11] ?? 0) + (fields[12] ?? 0)) * millisecondsPerTick,
    childrenCpuMs: ((fields[13] ?? 0) + (fields[14] ?? 0)) * millisecondsPerTick,
    wallMs: Math.round(Number(uptimeSeconds) * 1000 - (fields[19] ?? 0) * millisecondsPerTick),
  }
}

/** Busy and total CPU time of the machine so far (all cores), in milliseconds. */
export function machineCpuMs(): { busy: number; total: number } {
  const [line = ''] = readFileSync('/proc/stat', 'utf8').split('\n')
  const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number)
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0)
  const total = ticks.reduce((sum, value) => sum + value, 0)
  return { busy: (total - idle) * millisecondsPerTick, total: total * millisecondsPerTick }
}
