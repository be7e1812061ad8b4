/**
 * Which part of a check was measurement: a CgroupAccess that notes when each snapshot was read,
 * so a grade can say how many sampling windows each check took and how long they lasted. A
 * window is a run of snapshots of one container with no gap longer than `maxGapMs` (samplers read
 * every 100–250 ms); single reads (a quota file, an OOM counter) are not windows. A sampler's
 * window reads full, samples…, full (see Sampler): a full read after samples ends the window, so
 * back-to-back windows of one container (scaling-cpu keeps its container) stay apart. Windows of
 * containers measured side by side overlap, so their length is the union, not the sum.
 */
import { performance } from 'node:perf_hooks';
import type { CgroupAccess } from './access.ts';
import type { SnapshotPart } from './files.ts';
import type { CgroupSnapshot } from './snapshot.ts';

export interface Read {
  id: string;
  start: number;
  end: number;
  /** 'sample' (or 'cpu') for a sampler's reads between a window's full first and last snapshots. */
  part?: SnapshotPart;
}

export interface Window {
  id: string;
  start: number;
  end: number;
  reads: number;
}

export function windowsOf(reads: readonly Read[], maxGapMs = 1500, minReads = 3): Window[] {
  const byId = new Map<string, Read[]>();
  for (const r of reads) {
    let list = byId.get(r.id);
    if (!list) byId.set(r.id, (list = []));
    list.push(r);
  }
  const out: Window[] = [];
  for (const [id, rs] of byId) {
    rs.sort((a, b) => a.start - b.start);
    let cur: (Window & { sampled: boolean }) | undefined;
    const close = () => {
      if (cur && cur.reads >= minReads) out.push({ id, start: cur.start, end: cur.end, reads: cur.reads });
      cur = undefined;
    };
    for (const r of rs) {
      if (cur && r.start - cur.end <= maxGapMs) {
        cur.end = Math.max(cur.end, r.end);
        cur.reads += 1;
        if (r.part === 'sample' || r.part === 'cpu') cur.sampled = true;
        else if (cur.sampled) close();
      } else {
        close();
        cur = { id, start: r.start, end: r.end, reads: 1, sampled: r.part === 'sample' || r.part === 'cpu' };
      }
    }
    close();
  }
  return out.sort((a, b) => a.start - b.start);
}

/** Total length of the union of intervals, ms. */
export function unionMs(intervals: ReadonlyArray<{ start: number; end: number }>): number {
  const s = [...intervals].sort((a, b) => a.start - b.start);
  let total = 0;
  let curStart = NaN;
  let curEnd = NaN;
  for (const iv of s) {
    if (!Number.isFinite(curEnd) || iv.start > curEnd) {
      if (Number.isFinite(curEnd)) total += curEnd - curStart;
      curStart = iv.start;
      curEnd = iv.end;
    } else curEnd = Math.max(curEnd, iv.end);
  }
  if (Number.isFinite(curEnd)) total += curEnd - curStart;
  return total;
}

/** A CgroupAccess that passes everything through and remembers when each snapshot was read. */
export class WindowLog implements CgroupAccess {
  readonly reads: Read[] = [];
  constructor(private readonly inner: CgroupAccess) {}

  get mode() {
    return this.inner.mode;
  }
  get layout() {
    return this.inner.layout;
  }
  get driver() {
    return this.inner.driver;
  }
  get sameMachine() {
    return this.inner.sameMachine;
  }
  get reason() {
    return this.inner.reason;
  }
  locate(containerId: string) {
    return this.inner.locate(containerId);
  }
  async snapshot(containerId: string, part?: SnapshotPart): Promise<CgroupSnapshot> {
    const start = performance.now();
    try {
      return await this.inner.snapshot(containerId, part);
    } finally {
      this.reads.push({ id: containerId, start, end: performance.now(), ...(part ? { part } : {}) });
    }
  }
  readFiles(containerId: string, names: string[]) {
    return this.inner.readFiles(containerId, names);
  }
  forget(containerId: string): void {
    this.inner.forget(containerId);
  }
  ownedIds(): string[] {
    return this.inner.ownedIds();
  }
  /** Host files (harness/host-load.ts) by the inner access's route, when it has one. */
  get readHostFiles() {
    const inner = this.inner;
    return inner.readHostFiles ? (paths: string[]) => inner.readHostFiles!(paths) : undefined;
  }
  close(): Promise<void> {
    return this.inner.close();
  }

  /** Sampling windows so far and their total length, s (overlaps counted once). */
  summary(): { windows: number; seconds: number } {
    const ws = windowsOf(this.reads);
    return { windows: ws.length, seconds: Math.round(unionMs(ws)) / 1000 };
  }
}
