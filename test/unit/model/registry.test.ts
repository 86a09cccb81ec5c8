import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { BUNDLED_SOURCE, ModelRegistry, type ObjectModel, type ResourceModel } from '../../../src/core/model';

function res(id: number, name: string): ResourceModel {
  return { id, name, operations: 'R', multiple: false, mandatory: false, type: 'integer' };
}

function model(id: number, version: string, source: string, resources: ResourceModel[] = [res(0, `r0 of ${version}`)]): ObjectModel {
  return { id, name: `Object ${id} ${version} from ${source}`, version, urn: `urn:oma:lwm2m:x:${id}`, multiple: true, mandatory: false, resources, source };
}

function registryWith(...models: ObjectModel[]): ModelRegistry {
  const r = new ModelRegistry();
  r.addAll(models);
  return r;
}

describe('ModelRegistry', () => {
  it('finds the exact version', () => {
    const r = registryWith(model(3, '1.0', 'bundled'), model(3, '1.1', 'bundled'), model(3, '1.2', 'bundled'));
    assert.equal(r.getObject(3, '1.1')?.version, '1.1');
    assert.deepEqual(r.resolve(3, '1.1'), { model: r.getObject(3, '1.1'), approximate: false });
    assert.equal(r.resolve(3, '1')?.model.version, '1.0', '"1" means 1.0');
    assert.equal(r.resolve(3, '1')?.approximate, false);
  });

  it('returns the newest version when none is asked for', () => {
    const r = registryWith(model(3, '1.2', 'bundled'), model(3, '1.0', 'bundled'));
    assert.equal(r.getObject(3)?.version, '1.2');
    assert.equal(r.resolve(3)?.approximate, false);
  });

  it('falls back to the nearest version, marked approximate', () => {
    const r = registryWith(model(5, '1.0', 'b'), model(5, '1.2', 'b'), model(5, '2.1', 'b'));
    assert.deepEqual(
      ['1.1', '1.5', '0.9', '2.0', '2.5', '3.0'].map((v) => [v, r.resolve(5, v)?.model.version, r.resolve(5, v)?.approximate]),
      [
        ['1.1', '1.0', true], // highest at or below, same major
        ['1.5', '1.2', true],
        ['0.9', '1.0', true], // nothing below: lowest above
        ['2.0', '2.1', true], // the same major wins over a lower major
        ['2.5', '2.1', true],
        ['3.0', '2.1', true],
      ],
    );
    assert.equal(r.getObject(5, '1.1')?.version, '1.0');
  });

  it('answers unknown objects with undefined', () => {
    const r = registryWith(model(3, '1.0', 'b'));
    assert.equal(r.getObject(4), undefined);
    assert.equal(r.resolve(4, '1.0'), undefined);
    assert.equal(r.getResource(4, 0), undefined);
    assert.equal(r.getResource(3, 99), undefined);
  });

  it('finds resources of the resolved version', () => {
    const r = registryWith(model(3, '1.0', 'b', [res(0, 'old')]), model(3, '1.1', 'b', [res(0, 'new'), res(1, 'added')]));
    assert.equal(r.getResource(3, 0, '1.0')?.name, 'old');
    assert.equal(r.getResource(3, 0, '1.1')?.name, 'new');
    assert.equal(r.getResource(3, 0)?.name, 'new');
    assert.equal(r.getResource(3, 1, '1.0'), undefined);
  });

  it('lets user models override bundled ones of the same id and version, whatever the order', () => {
    const bundled = model(3303, '1.1', BUNDLED_SOURCE);
    const user = model(3303, '1.1', '/ws/models/temp.xml');
    for (const order of [
      [bundled, user],
      [user, bundled],
    ]) {
      const r = registryWith(...order);
      assert.equal(r.getObject(3303, '1.1'), user);
      assert.deepEqual(r.list(), [user]);
    }
  });

  it('lets the model added last win among user sources, and replaces a source re-adding a model', () => {
    const a = model(9, '1.0', '/a.xml');
    const b = model(9, '1.0', '/b.xml');
    const a2 = model(9, '1.0', '/a.xml');
    const r = registryWith(a, b);
    assert.equal(r.getObject(9), b);
    r.add(a2);
    assert.equal(r.getObject(9), a2);
    r.remove('/a.xml');
    assert.equal(r.getObject(9), b, 'a2 replaced a, so nothing of /a.xml is left');
  });

  it('removes the models of a source and brings back what they covered', () => {
    const bundled = model(3303, '1.1', BUNDLED_SOURCE);
    const user = model(3303, '1.1', '/ws/t.xml');
    const extra = model(40000, '1.0', '/ws/t.xml');
    const r = registryWith(bundled, user, extra);
    assert.equal(r.getObject(3303, '1.1'), user);
    assert.equal(r.remove('/ws/t.xml'), 2);
    assert.equal(r.getObject(3303, '1.1'), bundled);
    assert.equal(r.getObject(40000), undefined);
    assert.deepEqual(r.versions(40000), []);
    assert.equal(r.remove('/ws/t.xml'), 0);
  });

  it('lists models by id, then version, and lists versions of an object', () => {
    const r = registryWith(model(3303, '1.1', 'b'), model(3, '1.2', 'b'), model(3, '1.10', 'b'), model(3, '1.0', 'b'), model(0, '1.1', 'b'));
    assert.deepEqual(
      r.list().map((m) => `${m.id}@${m.version}`),
      ['0@1.1', '3@1.0', '3@1.2', '3@1.10', '3303@1.1'],
    );
    assert.deepEqual(r.versions(3), ['1.0', '1.2', '1.10']);
  });

  it('sees models added after a lookup', () => {
    const r = registryWith(model(7, '1.0', 'b'));
    assert.equal(r.resolve(7, '1.1')?.model.version, '1.0');
    r.add(model(7, '1.1', 'b'));
    assert.deepEqual(r.resolve(7, '1.1')?.approximate, false);
  });
});
