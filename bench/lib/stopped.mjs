/**
 * Waiting for a process sent SIGSTOP to be stopped: the signal is delivered asynchronously, so a
 * request sent just after `kill` returns can still be answered (CI once saw it).
 *
 * @module
 */
import { readdirSync, readFileSync } from 'node:fs'

/**
 * Resolves once every thread of process `pid` is stopped (`T` in /proc/PID/task/TID/stat);
 * rejects after `timeoutMs`. Linux only.
 *
 * @param {number} pid
 * @param {number} timeoutMs
 */
export async function stopped(pid, timeoutMs) {
  const deadline = Date.now() + timeoutMs
  while (!allStopped(pid)) {
    if (Date.now() > deadline) throw new Error(`process ${pid} did not stop within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
}

/** Is every thread of process `pid` stopped (state `T`)? */
function allStopped(pid) {
  return readdirSync(`/proc/${pid}/task`).every((tid) => {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('T')
  })
}
