/**
 * JSON Schema of lab files, generated from the zod schemas (the lab-spec's own and each check
 * kind's params), so editors validate and complete labs/<id>/lab.yaml. `npm run schema` writes
 * labs/lab.schema.json; a unit test keeps the committed file in step with the code.
 */
import { z } from 'zod';
import { CHECKS } from './checks/index.ts';
import { CheckSpec, LabSpecSchema } from './lab-spec.ts';

export function labJsonSchema(): Record<string, unknown> {
  const variants = [...CHECKS.values()].map((k) =>
    CheckSpec.extend({
      kind: z.literal(k.kind).describe(k.description),
      params: (k.params as z.ZodType).optional(),
    }),
  );
  const lab = LabSpecSchema.extend({
    checks: z.array(z.union(variants as unknown as [z.ZodType, z.ZodType, ...z.ZodType[]])).min(1),
  });
  const schema = z.toJSONSchema(lab, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return {
    ...schema,
    $id: 'https://labgrade.dev/lab.schema.json',
    title: 'labgrade lab file (labs/<id>/lab.yaml)',
  };
}

export function labJsonSchemaText(): string {
  return `${JSON.stringify(labJsonSchema(), null, 2)}\n`;
}
