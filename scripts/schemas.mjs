#!/usr/bin/env node
// Writes the JSON Schemas the extension contributes (package.json `jsonValidation`) from their
// definitions in src/core, so editors complete and check bootstrap configuration files:
//   npm run schemas   (node --import tsx scripts/schemas.mjs)
// test/unit/bootstrap/schema.test.ts fails when a checked-in schema no longer matches its source.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BOOTSTRAP_CONFIG_SCHEMA } from '../src/core/bootstrap/config.ts';
import { root } from './lib/env.mjs';

export const SCHEMAS = { 'bootstrap-config.schema.json': BOOTSTRAP_CONFIG_SCHEMA };

export function schemaText(schema) {
  return JSON.stringify(schema, null, 2) + '\n';
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const [name, schema] of Object.entries(SCHEMAS)) {
    writeFileSync(join(root, 'schemas', name), schemaText(schema));
    console.log(`schemas/${name}`);
  }
}
