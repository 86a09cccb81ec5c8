/**
 * The JSON Schema contributed for bootstrap configuration files (package.json jsonValidation) is
 * the one the bootstrap server validates with.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BOOTSTRAP_CONFIG_SCHEMA } from '../../../src/core/bootstrap/config';

const root = join(__dirname, '..', '..', '..');

describe('bootstrap configuration schema', () => {
  it('schemas/bootstrap-config.schema.json matches BOOTSTRAP_CONFIG_SCHEMA (regenerate: npm run schemas)', () => {
    const file = JSON.parse(readFileSync(join(root, 'schemas', 'bootstrap-config.schema.json'), 'utf8')) as unknown;
    assert.deepEqual(file, JSON.parse(JSON.stringify(BOOTSTRAP_CONFIG_SCHEMA)));
  });

  it('is contributed for .lwm2m/bootstrap*.json files', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { contributes: { jsonValidation: { fileMatch: string[]; url: string }[] } };
    const entry = pkg.contributes.jsonValidation.find((j) => j.url === './schemas/bootstrap-config.schema.json');
    assert.ok(entry, 'a jsonValidation entry');
    assert.ok(entry.fileMatch.includes('.lwm2m/bootstrap*.json'));
  });
});
