/**
 * Peak memory of a process and its descendants (Linux /proc), for the benchmarks: the prover pool
 * and the audit workers run rapidsnark as short-lived child processes, whose memory neither
 * `process.resourceUsage()` nor a sampled RSS of the parent sees.
 *
 * Every `intervalMs` it walks the tree under the root (each thread's `children` file: the pool's
 * worker threads spawn rapidsnark themselves) and keeps, per process, the largest VmHWM read.
 * VmHWM is the kernel's own high-water mark of the resident set, so a sample misses only what a
 * process adds in its last interval before it exits. A process that execs another program (taskset
 * execs the worker) starts a new image with a new high-water mark: it is recorded as another entry.
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

export interface ProcessPeak {
  pid: number;
  /** The executable's path (/proc/<pid>/exe), or its command name when that cannot be read. */
  exe: string;
  peakKiB: number;
}

function read(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined; // the process exited between listing and reading: nothing to record
  }
}

/** Direct children of `pid`, over all of its threads. */
function childrenOf(pid: number): number[] {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  return tasks.flatMap((tid) => (read(`/proc/${pid}/task/${tid}/children`) ?? "").split(" ").filter(Boolean).map(Number));
}

function exeOf(pid: number): string {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return (read(`/proc/${pid}/comm`) ?? "?").trim();
  }
}

/** VmHWM of a live process in KiB, undefined once it has gone (or for a zombie, which has none). */
export function vmHwmKiB(pid: number): number | undefined {
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(read(`/proc/${pid}/status`) ?? "");
  return match ? Number(match[1]) : undefined;
}

export class ProcessTreeSampler {
  /** The current image of each pid seen. */
  private readonly current = new Map<number, ProcessPeak>();
  private readonly peaks: ProcessPeak[] = [];
  private readonly timer: NodeJS.Timeout;

  /** Starts sampling `root` (default this process) and its descendants now. */
  constructor(
    private readonly root: number = process.pid,
    intervalMs = 200,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  /** One walk of the tree; call it also just before a process is expected to exit. */
  sample(): void {
    const pending = [this.root];
    while (pending.length > 0) {
      const pid = pending.pop()!;
      const hwm = vmHwmKiB(pid);
      if (hwm !== undefined) {
        const exe = exeOf(pid);
        const known = this.current.get(pid);
        if (known && known.exe === exe) known.peakKiB = Math.max(known.peakKiB, hwm);
        else {
          const entry = { pid, exe, peakKiB: hwm };
          this.current.set(pid, entry);
          this.peaks.push(entry);
        }
      }
      pending.push(...childrenOf(pid));
    }
  }

  /** Every process (image) seen, with its peak. */
  stop(): ProcessPeak[] {
    clearInterval(this.timer);
    this.sample();
    return [...this.peaks];
  }
}

/** The largest peak among `peaks` whose executable `matches`, in MiB, or undefined when none does. */
export function largestPeakMiB(peaks: readonly ProcessPeak[], matches: (exe: string) => boolean): number | undefined {
  const chosen = peaks.filter((p) => matches(p.exe));
  return chosen.length === 0 ? undefined : Math.max(...chosen.map((p) => p.peakKiB)) / 1024;
}
