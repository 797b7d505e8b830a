import { writeFileSync } from 'node:fs';
import { repoPolicyJsonSchema } from '../../src/core/policy/policy';

/**
 * `npm run schema:policy`: rewrites the JSON schema VS Code uses for `.vscode/coderoute.json`
 * (package.json `jsonValidation`) from the zod schema. A unit test fails until this is rerun
 * after the zod schema changes.
 */
const file = 'media/coderoute-policy.schema.json';
writeFileSync(file, `${JSON.stringify(repoPolicyJsonSchema(), null, 2)}\n`);
console.log(`wrote ${file}`);
