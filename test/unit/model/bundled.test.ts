import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { BUNDLED_SOURCE, bundledModels, createModelRegistry, type ObjectModel } from '../../../src/core/model';

const OMA_IDS = [0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 19, 21];
/** IPSO ids in 3200-3203 and 3300-3350 that the OMA registry defines (3307 and 3309 are not assigned). */
const IPSO_IDS = [3200, 3201, 3202, 3203, ...Array.from({ length: 51 }, (_, i) => 3300 + i).filter((id) => id !== 3307 && id !== 3309)];
/** Newest version of each object in the registry, where it is not 1.1 (IPSO) or 1.0. */
const NEWEST: Record<number, string> = { 0: '1.2', 1: '1.2', 2: '1.1', 3: '1.2', 4: '1.3', 5: '1.2', 6: '1.0', 7: '1.0', 9: '1.0', 10: '1.1', 19: '1.0', 21: '2.0', 3336: '2.0' };
const IPSO_ONLY_1_0 = [3311, 3339, 3340, 3341, 3343, 3344, 3345];

describe('bundled models', () => {
  const models = bundledModels();
  const registry = createModelRegistry();
  const get = (id: number, version: string): ObjectModel => {
    const m = registry.resolve(id, version);
    assert.ok(m && !m.approximate, `bundled ${id} ${version}`);
    return m.model;
  };

  it('has every required object, in the 1.1 and newest versions', () => {
    const ids = new Set(models.map((m) => m.id));
    assert.deepEqual([...ids].sort((a, b) => a - b), [...OMA_IDS, ...IPSO_IDS]);
    for (const id of [0, 1, 2, 3, 4, 5, 10, 21]) get(id, '1.1');
    for (const id of ids) {
      const newest = NEWEST[id] ?? (IPSO_ONLY_1_0.includes(id) ? '1.0' : '1.1');
      assert.equal(registry.getObject(id)?.version, newest, `newest version of ${id}`);
    }
    assert.equal(models.length, 127);
  });

  it('has no duplicate object versions or resource ids, and every model is marked bundled', () => {
    const keys = new Set<string>();
    for (const m of models) {
      const key = `${m.id}@${m.version}`;
      assert.ok(!keys.has(key), `duplicate ${key}`);
      keys.add(key);
      assert.equal(new Set(m.resources.map((r) => r.id)).size, m.resources.length, `duplicate resource in ${key}`);
      assert.equal(m.source, BUNDLED_SOURCE);
      assert.ok(m.resources.length > 0, key);
    }
  });

  it('knows the Device object 1.1', () => {
    const device = get(3, '1.1');
    assert.equal(device.name, 'Device');
    assert.equal(device.multiple, false);
    assert.equal(device.mandatory, true);
    assert.equal(device.urn, 'urn:oma:lwm2m:oma:3:1.1');
    assert.deepEqual(device.resources[0], {
      id: 0,
      name: 'Manufacturer',
      operations: 'R',
      multiple: false,
      mandatory: false,
      type: 'string',
    });
    const reboot = registry.getResource(3, 4, '1.1');
    assert.deepEqual([reboot?.name, reboot?.operations, reboot?.type, reboot?.mandatory], ['Reboot', 'E', 'none', true]);
    const battery = registry.getResource(3, 9, '1.1');
    assert.deepEqual([battery?.name, battery?.range?.min, battery?.range?.max, battery?.units], ['Battery Level', 0, 100, '%']);
    assert.equal(registry.getResource(3, 6, '1.1')?.multiple, true);
  });

  it('knows the Temperature object', () => {
    const temp = get(3303, '1.1');
    assert.equal(temp.name, 'Temperature');
    assert.equal(temp.urn, 'urn:oma:lwm2m:ext:3303:1.1');
    assert.deepEqual(registry.getResource(3303, 5700), {
      id: 5700,
      name: 'Sensor Value',
      operations: 'R',
      multiple: false,
      mandatory: true,
      type: 'float',
    });
    const units = registry.getResource(3303, 5701);
    assert.deepEqual([units?.name, units?.type, units?.units], ['Sensor Units', 'string', undefined]);
    assert.equal(registry.getResource(3303, 6050)?.units, 's');
    assert.equal(registry.getResource(3303, 6050, '1.0'), undefined, 'Fractional Timestamp came with 1.1');
  });

  it('gives every resource of the Security object empty operations', () => {
    for (const version of registry.versions(0)) {
      const security = get(0, version);
      assert.ok(security.resources.length >= 12);
      for (const r of security.resources) assert.equal(r.operations, '', `/0 ${version} resource ${r.id}`);
    }
    assert.equal(registry.getResource(0, 0, '1.1')?.name, 'LWM2M  Server URI', 'spelled as in the registry');
    assert.equal(registry.getResource(0, 10, '1.1')?.range?.max, 65534);
  });

  it('knows the version differences of the Server object', () => {
    assert.equal(registry.getResource(1, 13, '1.1')?.operations, '');
    assert.equal(registry.getResource(1, 13, '1.2')?.operations, 'R');
    assert.equal(registry.getResource(1, 14, '1.1')?.operations, '');
    assert.equal(registry.getResource(1, 14, '1.2')?.operations, 'RW');
    assert.equal(registry.getResource(1, 8, '1.0')?.name, 'Registration Update Trigger');
  });

  it('returns frozen models from a cached list', () => {
    const a = bundledModels();
    const b = bundledModels();
    assert.notEqual(a, b);
    assert.equal(a[0], b[0]);
    assert.ok(Object.isFrozen(a[0]));
    assert.ok(Object.isFrozen(a[0]!.resources));
  });

  it('lets extra models override bundled ones', () => {
    const custom: ObjectModel = { ...get(3303, '1.1'), name: 'My Temperature', source: '/ws/3303.xml' };
    const r = createModelRegistry({ extra: [custom] });
    assert.equal(r.getObject(3303, '1.1')?.name, 'My Temperature');
    assert.equal(r.getObject(3303, '1.0')?.name, 'Temperature');
  });
});
