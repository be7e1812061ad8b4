/**
 * Host facts for reports and `labgrade doctor`: what machine the numbers were measured on.
 *
 * EC2 detection, cheapest and safest first:
 *  1. DMI (/sys/class/dmi/id): on Nitro, sys_vendor is "Amazon EC2", product_name the instance
 *     type and board_asset_tag the instance id (world-readable; product_uuid is root-only).
 *  2. IMDSv2, only when DMI says EC2 but lacks a value, or DMI is unreadable (containers, some
 *     sandboxes). Never when DMI names another vendor: off EC2, 169.254.169.254 may be a
 *     different cloud's service or a black hole. Always under a short AbortSignal timeout.
 * systeminformation is slow (osInfo ≈ 225 ms, versions ≈ 4 s here), so only si.cpu() is used,
 * for the physical core count; the rest comes from node:os, /etc/os-release and
 * systemd-detect-virt, all run in parallel.
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import createDebug from 'debug';
import { execa } from 'execa';
import si from 'systeminformation';
import { errorMessage } from './errors.ts';
import type { EngineInfo } from './engine/engine.ts';

const log = createDebug('labgrade:host');

/** Whatever the engine told us; passed through untouched (nested, as its os/kernel/cpus are the engine host's). */
export type EngineInfoLike = Partial<EngineInfo>;

/** Injected in tests; the global fetch otherwise. */
export type FetchLike = (url: string, init?: RequestInit) => Promise<Response>;

export const DEFAULT_DMI_ROOT = '/sys/class/dmi/id';
export const DEFAULT_IMDS_BASE_URL = 'http://169.254.169.254';
export const DEFAULT_IMDS_TIMEOUT_MS = 300;

/** DMI files' contents, as read (trailing newline and all); undefined when unreadable. */
export interface DmiFiles {
  sysVendor?: string;
  productName?: string;
  boardAssetTag?: string;
  biosVendor?: string;
  /** Xen-era EC2 instances say sys_vendor "Xen" but bios_version "4.11.amazon". */
  biosVersion?: string;
}

export interface Ec2Facts {
  /** true/false when DMI is clear; null when DMI could not be read (cannot tell). */
  onEc2: boolean | null;
  instanceType: string | null;
  instanceId: string | null;
}

export interface HostFacts {
  hostname: string;
  /** /etc/os-release PRETTY_NAME, e.g. "Ubuntu 24.04.1 LTS"; `${os.type()} ${release}` without one. */
  os: string;
  kernel: string;
  arch: string;
  cpuModel: string | null;
  /** Logical CPUs online. */
  cpus: number;
  /** CPUs this process may run on (affinity), os.availableParallelism(). */
  cpusAvailable: number;
  /** From systeminformation; null when it failed. */
  physicalCores: number | null;
  memoryBytes: number;
  /** systemd-detect-virt --vm ('amazon', 'kvm', 'none', …), else a DMI guess; null when unknown. */
  virtualization: string | null;
  /** systemd-detect-virt --container ('docker', 'none', …); null when unknown. */
  container: string | null;
  onEc2: boolean | null;
  instanceType: string | null;
  instanceId: string | null;
  /** Where instanceType came from. */
  ec2Source: 'dmi' | 'imds' | null;
  engine: EngineInfoLike | null;
  nodeVersion: string;
  /** Things doctor should say: IMDS skipped or timed out, a probe that failed. */
  notes: string[];
  /** How long probeHost took, ms. */
  probeMs: number;
}

export interface ProbeHostOptions {
  engineInfo?: EngineInfoLike | null;
  /** Whole IMDS exchange (token + both reads), ms; default 300. */
  imdsTimeoutMs?: number;
  /** Where the DMI files are; default /sys/class/dmi/id. */
  dmiRoot?: string;
  /** Never contact IMDS (tests, sandboxes without a route). */
  skipImds?: boolean;
  fetch?: FetchLike;
  /** Default http://169.254.169.254; tests point it at 127.0.0.1. */
  imdsBaseUrl?: string;
  /** Default runs `systemd-detect-virt <flag>`; tests inject an answer. */
  detectVirt?: (flag: '--vm' | '--container') => Promise<string | null>;
}

// ---------------------------------------------------------------------------------------------
// pure pieces

/** "t3.micro", "c7i-flex.large", "u-6tb1.metal", "mac2-m2.metal". */
const INSTANCE_TYPE = /^[a-z][a-z0-9-]*\.[a-z0-9-]+$/;
/** Old 8-hex and current 17-hex ids. */
const INSTANCE_ID = /^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;

export function ec2FromDmi(files: DmiFiles): Ec2Facts {
  const sysVendor = files.sysVendor?.trim() ?? '';
  const productName = files.productName?.trim() ?? '';
  const assetTag = files.boardAssetTag?.trim() ?? '';
  const biosVendor = files.biosVendor?.trim() ?? '';
  const biosVersion = files.biosVersion?.trim() ?? '';
  if (sysVendor === '' && biosVendor === '' && biosVersion === '' && productName === '') {
    return { onEc2: null, instanceType: null, instanceId: null };
  }
  const nitro = /^amazon ec2$/i.test(sysVendor) || /^amazon ec2$/i.test(biosVendor);
  if (nitro) {
    return {
      onEc2: true,
      instanceType: INSTANCE_TYPE.test(productName) ? productName : null,
      instanceId: INSTANCE_ID.test(assetTag) ? assetTag : null,
    };
  }
  if (/amazon/i.test(biosVersion)) return { onEc2: true, instanceType: null, instanceId: null };
  return { onEc2: false, instanceType: null, instanceId: null };
}

/** IMDS is worth asking only when DMI says EC2 but lacks a value, or cannot be read. */
export function shouldQueryImds(ec2: Ec2Facts): boolean {
  if (ec2.onEc2 === null) return true;
  return ec2.onEc2 && (ec2.instanceType === null || ec2.instanceId === null);
}

/**
 * With DMI unreadable, whether IMDS could be there at all: EC2 runs on its own hypervisor
 * ('amazon'; systemd < 248 said 'kvm' on Nitro), Xen (older families) or bare metal ('none').
 * Anything else ('bhyve', 'microsoft', 'vmware', …) is not EC2, so no request is made.
 */
export function imdsPlausible(virtualization: string | null): boolean {
  return virtualization === null || ['amazon', 'kvm', 'xen', 'none'].includes(virtualization);
}

/** A virtualization name in systemd-detect-virt's vocabulary from DMI alone, when that tool is absent. */
export function virtFromDmi(files: DmiFiles): string | null {
  const vendor = `${files.sysVendor ?? ''} ${files.productName ?? ''} ${files.biosVersion ?? ''}`.trim();
  if (vendor === '') return null;
  const table: Array<[RegExp, string]> = [
    [/Amazon EC2/i, 'amazon'],
    [/amazon/i, 'xen'],
    [/^Xen\b/i, 'xen'],
    [/QEMU/i, 'qemu'],
    [/KVM/i, 'kvm'],
    [/VMware/i, 'vmware'],
    [/innotek|VirtualBox/i, 'oracle'],
    [/Microsoft Corporation.*Virtual Machine/i, 'microsoft'],
    [/Google/i, 'google'],
    [/Parallels/i, 'parallels'],
    [/BHYVE/i, 'bhyve'],
  ];
  for (const [re, name] of table) if (re.test(vendor)) return name;
  return 'none';
}

/** systemd-detect-virt prints one word ('amazon', 'none', 'docker'); anything else is not an answer. */
export function parseDetectVirt(stdout: string): string | null {
  const word = stdout.trim();
  return /^[a-z0-9_-]+$/.test(word) ? word : null;
}

/** PRETTY_NAME (or NAME VERSION) from an os-release file. */
export function parseOsRelease(text: string): string | null {
  const fields: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) fields[m[1]!] = m[2]!.replace(/^(["'])(.*)\1$/, '$2');
  }
  if (fields['PRETTY_NAME']) return fields['PRETTY_NAME'];
  if (fields['NAME']) return [fields['NAME'], fields['VERSION']].filter(Boolean).join(' ');
  return null;
}

// ---------------------------------------------------------------------------------------------
// IMDS

export type ImdsAnswer =
  { ok: true; instanceType: string | null; instanceId: string | null } | { ok: false; reason: string };

/**
 * IMDSv2: PUT a session token, then read instance-type and instance-id with it. The whole
 * exchange shares one AbortSignal.timeout, so an absent endpoint costs at most timeoutMs.
 * Never throws.
 */
export async function queryImds(
  options: { fetch?: FetchLike; baseUrl?: string; timeoutMs?: number } = {},
): Promise<ImdsAnswer> {
  const doFetch = options.fetch ?? ((url, init) => fetch(url, init));
  const base = (options.baseUrl ?? DEFAULT_IMDS_BASE_URL).replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? DEFAULT_IMDS_TIMEOUT_MS;
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const tokenResponse = await doFetch(`${base}/latest/api/token`, {
      method: 'PUT',
      headers: { 'X-aws-ec2-metadata-token-ttl-seconds': '60' },
      signal,
      redirect: 'error',
    });
    if (!tokenResponse.ok) {
      await tokenResponse.body?.cancel();
      return { ok: false, reason: `IMDS token request answered HTTP ${tokenResponse.status}` };
    }
    const token = (await tokenResponse.text()).trim();
    const read = async (item: string): Promise<string | null> => {
      const response = await doFetch(`${base}/latest/meta-data/${item}`, {
        headers: { 'X-aws-ec2-metadata-token': token },
        signal,
        redirect: 'error',
      });
      if (!response.ok) {
        await response.body?.cancel();
        return null;
      }
      return (await response.text()).trim();
    };
    const [type, id] = await Promise.all([read('instance-type'), read('instance-id')]);
    return {
      ok: true,
      instanceType: type !== null && INSTANCE_TYPE.test(type) ? type : null,
      instanceId: id !== null && INSTANCE_ID.test(id) ? id : null,
    };
  } catch (err) {
    if (signal.aborted) return { ok: false, reason: `IMDS gave no answer within ${timeoutMs} ms` };
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    return { ok: false, reason: `IMDS unreachable: ${cause ?? errorMessage(err)}` };
  }
}

// ---------------------------------------------------------------------------------------------
// the probe

export async function readDmi(root: string = DEFAULT_DMI_ROOT): Promise<DmiFiles> {
  const read = async (name: string): Promise<string | undefined> => {
    try {
      return await readFile(path.join(root, name), 'utf8');
    } catch {
      return undefined;
    }
  };
  const [sysVendor, productName, boardAssetTag, biosVendor, biosVersion] = await Promise.all(
    ['sys_vendor', 'product_name', 'board_asset_tag', 'bios_vendor', 'bios_version'].map(read),
  );
  const files: DmiFiles = {};
  if (sysVendor !== undefined) files.sysVendor = sysVendor;
  if (productName !== undefined) files.productName = productName;
  if (boardAssetTag !== undefined) files.boardAssetTag = boardAssetTag;
  if (biosVendor !== undefined) files.biosVendor = biosVendor;
  if (biosVersion !== undefined) files.biosVersion = biosVersion;
  return files;
}

async function runDetectVirt(flag: '--vm' | '--container'): Promise<string | null> {
  // Exit code 1 with "none" means "not virtualized"; a missing binary leaves stdout empty.
  const result = await execa('systemd-detect-virt', [flag], { reject: false, timeout: 2_000 });
  return parseDetectVirt(result.stdout);
}

async function readOsRelease(): Promise<string | null> {
  for (const file of ['/etc/os-release', '/usr/lib/os-release']) {
    try {
      return parseOsRelease(await readFile(file, 'utf8'));
    } catch {
      // try the next one
    }
  }
  return null;
}

async function physicalCores(notes: string[]): Promise<number | null> {
  try {
    const cpu = await si.cpu();
    return cpu.physicalCores > 0 ? cpu.physicalCores : null;
  } catch (err) {
    notes.push(`systeminformation cpu() failed: ${errorMessage(err)}`);
    return null;
  }
}

/** Collects host facts. Never throws for a missing fact: it is null and `notes` says why. */
export async function probeHost(options: ProbeHostOptions = {}): Promise<HostFacts> {
  const started = performance.now();
  const notes: string[] = [];
  log('probe start');

  const detectVirt = options.detectVirt ?? runDetectVirt;
  const [dmi, osName, virtVm, virtContainer, cores] = await Promise.all([
    readDmi(options.dmiRoot ?? DEFAULT_DMI_ROOT),
    readOsRelease(),
    detectVirt('--vm'),
    detectVirt('--container'),
    physicalCores(notes),
  ]);

  let ec2 = ec2FromDmi(dmi);
  let ec2Source: HostFacts['ec2Source'] = ec2.instanceType !== null ? 'dmi' : null;
  if (ec2.onEc2 === null) notes.push(`DMI unreadable at ${options.dmiRoot ?? DEFAULT_DMI_ROOT}`);
  if (shouldQueryImds(ec2)) {
    if (options.skipImds) {
      notes.push('IMDS not queried (skipImds)');
    } else if (ec2.onEc2 === null && !imdsPlausible(virtVm)) {
      notes.push(`IMDS not queried: virtualization is ${virtVm}, not EC2`);
    } else {
      const timeoutMs = options.imdsTimeoutMs ?? DEFAULT_IMDS_TIMEOUT_MS;
      const imdsOptions: Parameters<typeof queryImds>[0] = { timeoutMs };
      if (options.fetch) imdsOptions.fetch = options.fetch;
      if (options.imdsBaseUrl) imdsOptions.baseUrl = options.imdsBaseUrl;
      const answer = await queryImds(imdsOptions);
      if (answer.ok) {
        if (ec2.instanceType === null && answer.instanceType !== null) ec2Source = 'imds';
        ec2 = {
          onEc2: true,
          instanceType: ec2.instanceType ?? answer.instanceType,
          instanceId: ec2.instanceId ?? answer.instanceId,
        };
      } else {
        notes.push(answer.reason);
        log('imds: %s', answer.reason);
      }
    }
  }

  const cpus = os.cpus();
  const facts: HostFacts = {
    hostname: os.hostname(),
    os: osName ?? `${os.type()} ${os.release()}`,
    kernel: os.release(),
    arch: os.arch(),
    cpuModel: cpus[0]?.model.trim() || null,
    cpus: cpus.length,
    cpusAvailable: os.availableParallelism(),
    physicalCores: cores,
    memoryBytes: os.totalmem(),
    virtualization: virtVm ?? virtFromDmi(dmi),
    container: virtContainer,
    onEc2: ec2.onEc2,
    instanceType: ec2.instanceType,
    instanceId: ec2.instanceId,
    ec2Source,
    engine: options.engineInfo ?? null,
    nodeVersion: process.version,
    notes,
    probeMs: 0,
  };
  facts.probeMs = Math.round(performance.now() - started);
  log('probe done in %d ms', facts.probeMs);
  return facts;
}
