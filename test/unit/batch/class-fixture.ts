/**
 * The batch tests' class, built in a temp folder: the committed source folders plus archives made
 * at run time by test/fixtures/class/make-class.py (binary archives are not committed).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLASS_FIXTURES = fileURLToPath(new URL('../../fixtures/class/', import.meta.url));
export const CLASS_LAB = path.join(CLASS_FIXTURES, 'lab.yaml');

export interface ClassFolders {
  root: string;
  folders: string;
  archives: string;
  canvas: string;
  /** The inputs as a TA passes them. */
  inputs: string[];
}

export function makeClass(): ClassFolders {
  const root = mkdtempSync(path.join(os.tmpdir(), 'lgtest-class-'));
  execFileSync('python3', [path.join(CLASS_FIXTURES, 'make-class.py'), root], { stdio: 'pipe' });
  const folders = path.join(root, 'folders');
  const archives = path.join(root, 'archives');
  const canvas = path.join(root, 'canvas.zip');
  return { root, folders, archives, canvas, inputs: [folders, archives, canvas] };
}

/** The class's keys, as intake must find them. */
export const CLASS_KEYS = [
  'broken-carol',
  'canvas:1001',
  'canvas:1002',
  'canvas:1003',
  'canvas:1004',
  'erin',
  'frank',
  'good-alice',
  'grace',
  'heidi',
  'hostile-dave',
  'partial-bob',
];
