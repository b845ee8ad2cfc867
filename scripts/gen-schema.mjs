// `npm run schema`: regenerate schemas/*.schema.json from the zod config schemas (src/config/json-schema.ts).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const unregister = register();
const { writeJsonSchemas } = await import(join(root, 'src/config/json-schema.ts'));
for (const p of writeJsonSchemas(join(root, 'schemas'))) console.log(`wrote ${p.slice(root.length + 1)}`);
await unregister();
