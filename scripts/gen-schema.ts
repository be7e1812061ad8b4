// Writes labs/lab.schema.json from the zod schemas (npm run schema).
import { writeFileSync } from 'node:fs';
import { labJsonSchemaText } from '../graders/lab-schema.ts';

writeFileSync(new URL('../labs/lab.schema.json', import.meta.url), labJsonSchemaText());
console.log('wrote labs/lab.schema.json');
