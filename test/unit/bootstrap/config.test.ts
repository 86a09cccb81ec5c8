/** Bootstrap configuration files: loading, defaults, and problems reported with file and field. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  BOOTSTRAP_CONFIG_SCHEMA,
  BootstrapConfigError,
  bootstrapConfigFrom,
  configFor,
  loadBootstrapConfig,
  type ConfigProblem,
} from '../../../src/core/bootstrap/config';

const dir = join(__dirname, '..', '..', 'fixtures', 'bootstrap');
const fixture = (name: string) => join(dir, name);

async function problemsOf(files: string[]): Promise<ConfigProblem[]> {
  try {
    await loadBootstrapConfig(files);
  } catch (err) {
    assert.ok(err instanceof BootstrapConfigError, String(err));
    return err.problems;
  }
  assert.fail('expected a BootstrapConfigError');
}

describe('bootstrap configuration', () => {
  it('loads per-endpoint entries and a default from several files, filling defaults', async () => {
    const config = await loadBootstrapConfig([fixture('valid.json'), fixture('second.json')]);
    assert.deepEqual([...config.endpoints.keys()], ['urn:imei:490154203237518', 'sensor-7']);
    const imei = configFor(config, 'urn:imei:490154203237518')!;
    assert.deepEqual(imei.delete, ['/0', '/1']);
    assert.equal(imei.discover, true);
    assert.deepEqual(imei.read, ['/1']);
    assert.equal(imei.format, 'tlv');
    assert.equal(imei.source, fixture('valid.json'));
    const [psk, nosec] = imei.servers;
    assert.deepEqual(psk!.security, { mode: 'PSK', identity: 'imei-490154203237518', keyRef: 'psk/490154203237518' });
    assert.equal(psk!.securityInstanceId, 1);
    assert.equal(psk!.serverInstanceId, 0);
    assert.equal(psk!.notificationStoring, false);
    assert.equal(nosec!.securityInstanceId, 5);
    assert.equal(nosec!.serverInstanceId, 7);
    assert.equal(nosec!.lifetime, 300);
    assert.equal(nosec!.binding, 'U');
    const other = configFor(config, 'anyone-else')!;
    assert.equal(other, config.default);
    assert.deepEqual(other.delete, ['/']);
    assert.equal(other.servers[0]!.uri, 'coap://127.0.0.1:5683');
    assert.equal(configFor(config, 'sensor-7')!.source, fixture('second.json'));
  });

  it('reports every bad field with its file and JSON pointer', async () => {
    const file = fixture('bad-fields.json');
    const problems = await problemsOf([file]);
    assert.ok(problems.every((p) => p.file === file));
    const byField = new Map(problems.map((p) => [p.field, p.message]));
    const expect = (field: string, re: RegExp) => assert.match(byField.get(field) ?? `(no problem at ${field})`, re, field);
    expect('/default/delete/1', /does not match/);
    expect('/default/servers/0/shortServerId', /at least 1/);
    expect('/default/servers/0/uri', /does not match \^coaps\?/);
    expect('/default/servers/0/lifetime', /expected an integer, found string/);
    expect('/default/servers/0/colour', /unknown field/);
    expect('/endpoints/dev1/servers/0/security/keyRef', /required for PSK/);
    expect('/endpoints/dev1/servers/1/security/keyRef', /only applies to PSK/);
    expect('/endpoints/dev1/servers/1/shortServerId', /already used by servers\/0/);
    expect('/endpoints/dev1/read/0', /only allowed on \/1 and \/2/);
    expect('/endpoints/dev~12/servers', /at least 1 item/);
    expect('/endpoints/dev3/servers/0/lifetime', /found the number 60.5/);
    expect('/endpoints/dev3/servers/0/security/mode', /one of "NoSec", "PSK"/);
    assert.equal(problems.length, 12);
  });

  it('reports JSON syntax errors with line and column, unreadable files, duplicates across files', async () => {
    const [syntax] = await problemsOf([fixture('bad-json.json')]);
    assert.equal(syntax!.file, fixture('bad-json.json'));
    assert.equal(syntax!.field, '');
    assert.match(syntax!.message, /not valid JSON at line 4, column \d+/);
    const [missing] = await problemsOf([fixture('no-such-file.json')]);
    assert.match(missing!.message, /cannot read: ENOENT/);
    const dup = await problemsOf([fixture('valid.json'), fixture('second.json'), fixture('duplicate.json')]);
    assert.deepEqual(
      dup.map((p) => [p.file, p.field]),
      [
        [fixture('duplicate.json'), '/default'],
        [fixture('duplicate.json'), '/endpoints/sensor-7'],
      ],
    );
    assert.match(dup[1]!.message, /already defined in .*second\.json/);
    assert.match(new BootstrapConfigError(dup).message, /duplicate\.json: \/default: a default is already defined in .*valid\.json/);
  });

  it('validates objects built in code, and exposes the schema', () => {
    assert.throws(() => bootstrapConfigFrom({ endpoints: {} }, 'settings'), (e: unknown) => e instanceof BootstrapConfigError && e.problems[0]!.file === 'settings' && /configures nothing/.test(e.problems[0]!.message));
    assert.throws(() => bootstrapConfigFrom([], 'settings'), /expected an object, found array/);
    const config = bootstrapConfigFrom({ default: { servers: [{ shortServerId: 3, uri: 'coap://h', security: { mode: 'NoSec' } }] } });
    assert.equal(config.default!.servers[0]!.lifetime, 300);
    assert.equal(BOOTSTRAP_CONFIG_SCHEMA.$schema, 'http://json-schema.org/draft-07/schema#');
    assert.deepEqual(Object.keys(BOOTSTRAP_CONFIG_SCHEMA.properties!), ['$schema', 'version', 'default', 'endpoints']);
  });
});
