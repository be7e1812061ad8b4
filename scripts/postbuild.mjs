// Make the built CLI executable: npm links "bin" to it, and a fresh clone's `npm run build`
// must give a runnable `labgrade`.
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
const bin = new URL('../dist/cli/main.js', import.meta.url);
const text = readFileSync(bin, 'utf8');
if (!text.startsWith('#!')) writeFileSync(bin, `#!/usr/bin/env node\n${text}`);
chmodSync(bin, 0o755);
