/** The one registry of check kinds: kind → implementation. A lab names kinds from here. */
import type { z } from 'zod';
import type { CheckKind } from './check.ts';
import type { LabRules } from '../lab-spec.ts';
import dockerHub from './docker-hub.ts';
import dockerfile from './dockerfile.ts';
import environment from './environment.ts';
import imageBuild from './image-build.ts';
import isolationCpu from './isolation-cpu.ts';
import isolationMemory from './isolation-memory.ts';
import limitsSmoke from './limits-smoke.ts';
import measurementTable from './measurement-table.ts';
import monitor from './monitor.ts';
import memorySwap from './memory-swap.ts';
import scalingCpu from './scaling-cpu.ts';
import scalingMemory from './scaling-memory.ts';
import tools from './tools.ts';
import { withPreflight } from '../preflight/apply.ts';

const all = [
  environment,
  dockerfile,
  imageBuild,
  tools,
  monitor,
  scalingCpu,
  scalingMemory,
  memorySwap,
  isolationCpu,
  isolationMemory,
  dockerHub,
  measurementTable,
  limitsSmoke,
].map((k) => withPreflight(k as CheckKind<unknown>));

export const CHECKS: ReadonlyMap<string, CheckKind<unknown>> = new Map(all.map((k) => [k.kind, k]));

/** Params schemas by kind, for the lab loader. */
export function paramSchemas(): Record<string, z.ZodType> {
  return Object.fromEntries([...CHECKS].map(([k, c]) => [k, c.params]));
}

/** What each kind's params ask of the rest of the lab file, for the lab loader. */
export function labRules(): LabRules {
  return Object.fromEntries([...CHECKS].flatMap(([k, c]) => (c.checkLab ? [[k, c.checkLab.bind(c)]] : [])));
}
