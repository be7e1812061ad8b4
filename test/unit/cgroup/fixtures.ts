/** Paths and ids of the cgroup fixture trees (test/fixtures/cgroup/README.md says where each came from). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const FIXTURES = fileURLToPath(new URL('../../fixtures/cgroup/', import.meta.url));

export function tree(name: string): string {
  return `${FIXTURES}${name}`;
}

export function fixtureText(name: string, file: string): string {
  return readFileSync(`${tree(name)}/${file}`, 'utf8');
}

/** Real containers captured on the v1 hybrid development host. */
export const V1_A = '3fc08579ea4e964c1b85d0dee6bf45f92e4ff75a5f996f60529da360519172f9'; // --cpus 0.5 --memory 128m
export const V1_B = 'd68e6a0d48870ce6fa9d33009d757dd45f7f27ccdfef4fc043abeb13bf19768e'; // no limits
export const V1_C = 'eb4e2293fb43b539fcb4c088c4998b30e97380a9f003960b503166533c9bb270'; // OOM-killed, throttled
/** Written trees: ids from the reference samples. */
export const V1_SYSTEMD = '13457ba25650af56412514013cdabf7a6eb90fd51af4d87e54fe7625e83c06d5';
export const V2_SYSTEMD = '34ca63d499df1071c9d0512aafe7f4a1e73464edc6b40a9b97fdd087542d1930';
export const V2_SYSTEMD_OOM = '602f66756b13a0ea4768465aed4027a7229fb02efcd9d1ae35c9f16d9252f20e';
export const V2_CGROUPFS = '2c53af8539092141978bb91a17fe06a2093e30ad32ba4930c4ccfd3bb7591423';
