/**
 * CoAPS: the project's CoapTransport running unchanged over DtlsServer (datagramSocket), with
 * the PSK identity checked against the endpoint name per request, as the LwM2M server will.
 */

import { strict as assert } from 'node:assert';
import { execFile, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { after, describe, it } from 'node:test';
import * as coap from 'coap-packet';
import { Code, Method } from '../../../src/core/coap/message';
import { CoapTransport, type IncomingRequest, type OutgoingResponse } from '../../../src/core/coap/transport';
import { DtlsClient, DtlsServer, datagramSocket } from '../../../src/core/dtls';

const CREDENTIALS = new Map([
  ['dev-1', Buffer.from('key-of-dev-1')],
  ['dev-2', Buffer.from('key-of-dev-2')],
]);

const cleanup: (() => unknown)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

/** A Register handler: 2.01 when the endpoint name is the DTLS identity, else 4.03. */
async function coapsServer(): Promise<{ port: number; registered: string[] }> {
  const dtls = new DtlsServer({ psk: (identity) => CREDENTIALS.get(identity) });
  const registered: string[] = [];
  const onRequest = (req: IncomingRequest): OutgoingResponse => {
    const identity = dtls.sessionFor(req.peer)?.identity;
    const ep = req.query.find((q) => q.startsWith('ep='))?.slice(3);
    if (req.method !== Method.POST || req.path.join('/') !== 'rd') return { code: Code.NotFound };
    if (ep !== identity) return { code: Code.Forbidden, payload: Buffer.from(`identity ${identity} may not register as ${ep}`) };
    registered.push(ep!);
    return { code: Code.Created, options: [] };
  };
  const transport = new CoapTransport({ socketFactory: () => datagramSocket(dtls), onRequest });
  await transport.bind({ port: 0, address: '127.0.0.1' });
  cleanup.push(() => transport.close());
  return { port: transport.address()!.port, registered };
}

async function register(port: number, identity: string, ep: string): Promise<coap.ParsedPacket> {
  const client = new DtlsClient();
  cleanup.push(() => client.close());
  await client.connect('127.0.0.1', port, identity, CREDENTIALS.get(identity)!);
  const answer = once(client, 'message', { signal: AbortSignal.timeout(3000) });
  client.send(
    coap.generate({
      messageId: 7,
      token: Buffer.from([1]),
      code: 'POST',
      confirmable: true,
      options: [
        { name: 'Uri-Path', value: Buffer.from('rd') },
        { name: 'Uri-Query', value: Buffer.from(`ep=${ep}`) },
      ],
      payload: Buffer.from('</3/0>'),
    }),
  );
  return coap.parse((await answer)[0] as Buffer);
}

describe('CoapTransport over DtlsServer', { timeout: 60_000 }, () => {
  it('answers a Register from the endpoint its identity names, refuses another with 4.03', async () => {
    const { port, registered } = await coapsServer();
    assert.equal((await register(port, 'dev-1', 'dev-1')).code, '2.01');
    const refused = await register(port, 'dev-2', 'dev-1');
    assert.equal(refused.code, '4.03');
    assert.match(refused.payload.toString(), /identity dev-2 may not register as dev-1/);
    assert.deepEqual(registered, ['dev-1']);
  });

  const skip = spawnSync('sh', ['-c', 'command -v coap-client-openssl']).status === 0 ? false : 'coap-client-openssl not installed';
  it('serves coap-client-openssl', { skip }, async () => {
    const { port, registered } = await coapsServer();
    const out = await new Promise<string>((resolve) =>
      execFile('coap-client-openssl', ['-B', '5', '-v', '7', '-m', 'post', '-u', 'dev-2', '-k', 'key-of-dev-2', `coaps://127.0.0.1:${port}/rd?ep=dev-2`], { timeout: 15_000 }, (_e, o, e) =>
        resolve(`${o}\n${e}`),
      ),
    );
    assert.match(out, /c:2\.01/, out);
    assert.deepEqual(registered, ['dev-2']);
  });
});
