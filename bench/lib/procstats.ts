// CPU time and peak memory of a process, from /proc (Linux).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let ticks: number | undefined;

/** Clock ticks per second (USER_HZ), the unit of utime and stime in /proc/PID/stat. */
function clockTicks(): number {
  if (ticks === undefined) {
    const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout;
    const n = Number(out?.trim());
    ticks = Number.isFinite(n) && n > 0 ? n : 100;
  }
  return ticks;
}

/** utime + stime of the process so far, in milliseconds. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / clockTicks();
}

function statusKiB(pid: number, key: string): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status);
  return m?.[1] ? Number(m[1]) : NaN;
}

/** Peak resident set size (VmHWM) in MiB. */
export const peakRssMiB = (pid: number): number => statusKiB(pid, 'VmHWM') / 1024;

/** Current resident set size (VmRSS) in MiB. */
export const rssMiB = (pid: number): number => statusKiB(pid, 'VmRSS') / 1024;
