import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Code } from '../../../src/core/coap/message';
import { RegistrationError } from '../../../src/core/server/errors';
import { parseRegister, parseUpdate } from '../../../src/core/server/registration';

const text = (s: string) => Buffer.from(s);
const NONE = Buffer.alloc(0);

function refused(fn: () => unknown, code: number, message?: RegExp): void {
  assert.throws(fn, (err: Error) => {
    assert.ok(err instanceof RegistrationError, `${err}`);
    assert.equal(err.code, code);
    if (message) assert.match(err.message, message);
    return true;
  });
}

describe('parseRegister', () => {
  it('reads every parameter and the object list (§7.1, §7.3)', () => {
    const p = parseRegister(
      ['ep=urn:imei:490154203237518', 'lt=300', 'lwm2m=1.1', 'b=U', 'sms=+33612345678', 'Q', 'apn=iot', 'flag'],
      text('</>;rt="oma.lwm2m";ct="60 110 112",</1>;ver=1.1,</1/0>,</3/0>,</3303>;ver=1.1,</3303/0>,</3303/1>,</5>'),
      40,
    );
    assert.equal(p.endpoint, 'urn:imei:490154203237518');
    assert.equal(p.lifetime, 300);
    assert.equal(p.lwm2mVersion, '1.1');
    assert.equal(p.binding, 'U');
    assert.equal(p.sms, '+33612345678');
    assert.equal(p.queueMode, true);
    assert.deepEqual(p.extraParams, { apn: 'iot', flag: null });
    assert.equal(p.links.rootPath, '/');
    assert.deepEqual(p.links.contentFormats, [60, 110, 112]);
    assert.deepEqual(p.links.objects, [
      { id: 1, version: '1.1', instances: [0] },
      { id: 3, instances: [0] },
      { id: 3303, version: '1.1', instances: [0, 1] },
      { id: 5, instances: [] },
    ]);
  });

  it('applies the defaults: lt 86400, binding U, version 1.0, link format without Content-Format', () => {
    const p = parseRegister(['ep=dev'], text('</3/0>'), undefined);
    assert.equal(p.lifetime, 86_400);
    assert.equal(p.binding, 'U');
    assert.equal(p.lwm2mVersion, '1.0');
    assert.equal(p.queueMode, false);
    assert.equal(p.sms, undefined);
  });

  it('reads an alternate root path and strips it from object links (§7.5)', () => {
    const p = parseRegister(['ep=alt', 'lwm2m=1.0'], text('</lwm2m>;rt="oma.lwm2m",</lwm2m/1/0>,</lwm2m/3/0>,</other/9>'), 40);
    assert.equal(p.links.rootPath, '/lwm2m');
    assert.deepEqual(
      p.links.objects.map((o) => o.id),
      [1, 3],
    );
    assert.equal(p.links.linkProblems.length, 1, 'the link outside the root is reported');
  });

  it('takes queue mode from a 1.0 binding', () => {
    assert.equal(parseRegister(['ep=a', 'lwm2m=1.0', 'b=UQ'], NONE, undefined).queueMode, true);
  });

  it('answers 4.00 for a missing or empty endpoint name', () => {
    refused(() => parseRegister(['lt=60'], NONE, undefined), Code.BadRequest, /endpoint/);
    refused(() => parseRegister(['ep='], NONE, undefined), Code.BadRequest);
    refused(() => parseRegister(['ep'], NONE, undefined), Code.BadRequest);
  });

  it('answers 4.12 for an unsupported LwM2M version', () => {
    refused(() => parseRegister(['ep=a', 'lwm2m=2.0'], NONE, undefined), Code.PreconditionFailed, /2\.0/);
    refused(() => parseRegister(['ep=a', 'lwm2m=1.1'], NONE, undefined, ['1.0']), Code.PreconditionFailed);
  });

  it('answers 4.00 for malformed parameters and payloads', () => {
    const cases: [string[], Buffer, number | undefined, RegExp][] = [
      [['ep=a', 'lt=abc'], NONE, undefined, /lifetime/],
      [['ep=a', 'lt=0'], NONE, undefined, /lifetime/],
      [['ep=a', 'lt=-5'], NONE, undefined, /lifetime/],
      [['ep=a', 'b=X'], NONE, undefined, /binding/],
      [['ep=a', 'sms='], NONE, undefined, /sms/],
      [['ep=a', 'Q=1'], NONE, undefined, /Q/],
      [['ep=a', 'ep=b'], NONE, undefined, /twice/],
      [['ep=a', 'lwm2m'], NONE, undefined, /lwm2m/],
      [['ep=a', '=x'], NONE, undefined, /no name/],
      [['ep=a'], text('</3/0'), 40, /link format/],
      [['ep=a'], text('[1,2]'), 110, /link format \(40\)/],
    ];
    for (const [query, payload, cf, message] of cases) refused(() => parseRegister(query, payload, cf), Code.BadRequest, message);
  });
});

describe('parseUpdate', () => {
  it('reads the changed parameters only', () => {
    assert.deepEqual(parseUpdate([], NONE, undefined), { extraParams: {} });
    const u = parseUpdate(['lt=120', 'b=UQ', 'sms=123', 'x=1'], text('</3/0>,</4/0>'), 40);
    assert.equal(u.lifetime, 120);
    assert.equal(u.binding, 'UQ');
    assert.equal(u.sms, '123');
    assert.deepEqual(u.extraParams, { x: '1' });
    assert.deepEqual(
      u.links?.objects.map((o) => o.id),
      [3, 4],
    );
  });

  it('refuses ep and lwm2m with 4.00', () => {
    refused(() => parseUpdate(['ep=a'], NONE, undefined), Code.BadRequest, /not allowed/);
    refused(() => parseUpdate(['lwm2m=1.1'], NONE, undefined), Code.BadRequest, /not allowed/);
    refused(() => parseUpdate(['lt=x'], NONE, undefined), Code.BadRequest);
  });
});
