// Writes labs/lab.schema.json from the zod schemas and rewrites labs/README.md's kinds table from
// the registered kinds (npm run schema).
import { readFileSync, writeFileSync } from 'node:fs';
import { labJsonSchemaText } from '../graders/lab-schema.ts';
import { withKindsTable } from '../graders/kinds-table.ts';

writeFileSync(new URL('../labs/lab.schema.json', import.meta.url), labJsonSchemaText());
console.log('wrote labs/lab.schema.json');

const readme = new URL('../labs/README.md', import.meta.url);
writeFileSync(readme, withKindsTable(readFileSync(readme, 'utf8')));
console.log('wrote the kinds table in labs/README.md');
