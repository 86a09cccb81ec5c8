/**
 * `lwm2m-workbench serve --dtls-port 0 --psk …` as a process: coap-client-openssl registers over
 * CoAPS, the `registered` event names the security mode and identity; option parsing.
 */

import { strict as assert } from 'node:assert';
import { execFile, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parsePskOption } from '../../../src/cli/serve';
import { spawnCli, type CliProcess } from './process';


const children: ChildProcessWithoutNullStreams[] = [];
const dir = mkdtempSync(join(tmpdir(), 'serve-dtls-'));
after(() => {
  for (const c of children) c.kill();
  rmSync(dir, { recursive: true, force: true });
});

/** Starts serve on system-chosen ports of 127.0.0.1 with `args`. */
function serve(args: string[]): CliProcess {
  return spawnCli(['serve', '--port', '0', '--bind', '127.0.0.1', ...args], children);
}

const KEY_HEX = Buffer.from('key-of-dev-7').toString('hex');
const skip = spawnSync('sh', ['-c', 'command -v coap-client-openssl']).status === 0 ? false : 'coap-client-openssl not installed';

function coapClient(args: string[]): Promise<string> {
  return new Promise((resolve) => {
    execFile('coap-client-openssl', ['-B', '5', ...args], { timeout: 15_000 }, (_e, o, e) => resolve(`${o}\n${e}`));
  });
}

describe('serve with CoAPS', { timeout: 90_000 }, () => {
  it('parses --psk IDENTITY:HEXKEY[@ENDPOINT]', () => {
    assert.deepEqual(parsePskOption('dev-1:0a0b'), { identity: 'dev-1', key: Buffer.from([10, 11]) });
    assert.deepEqual(parsePskOption('urn:imei:1:0a0b@urn:imei:1'), { identity: 'urn:imei:1', key: Buffer.from([10, 11]), endpoint: 'urn:imei:1' });
    assert.deepEqual(parsePskOption('id:00@ep'), { identity: 'id', key: Buffer.from([0]), endpoint: 'ep' });
    assert.throws(() => parsePskOption('nokey'), /IDENTITY:HEXKEY/);
    assert.throws(() => parsePskOption('id:xyz'), /IDENTITY:HEXKEY/);
    assert.throws(() => parsePskOption('id:abc'), /even number of hex digits/);
  });

  it('without credentials or --dtls-port, no CoAPS', async () => {
    const p = serve([]);
    const listening = await p.wait((l) => l.event === 'listening');
    assert.equal(listening.securePort, undefined);
  });

  it('coap-client-openssl registers over CoAPS with a --psk credential', { skip }, async () => {
    const p = serve(['--dtls-port', '0', '--psk', `dev-7:${KEY_HEX}`]);
    const listening = await p.wait((l) => l.event === 'listening');
    const securePort = listening.securePort as number;
    assert.ok(securePort > 0 && securePort !== listening.port, p.output());
    const out = await coapClient(['-v', '7', '-m', 'post', '-e', '</3/0>', '-u', 'dev-7', '-k', 'key-of-dev-7', `coaps://127.0.0.1:${securePort}/rd?ep=dev-7`]);
    assert.match(out, /c:2\.01/, out);
    const registered = await p.wait((l) => l.event === 'registered');
    const reg = registered.registration as Record<string, unknown>;
    assert.equal(registered.endpoint, 'dev-7');
    assert.equal(reg.security, 'PSK');
    assert.equal(reg.pskIdentity, 'dev-7');
    assert.match(out, new RegExp(`Location-Path:${String(reg.id)}`), out);
  });

  it('--credentials FILE binds an identity to an endpoint: 4.03 for another', { skip }, async () => {
    const file = join(dir, 'creds.json');
    writeFileSync(file, JSON.stringify([{ identity: 'id-9', key: KEY_HEX, endpoint: 'urn:dev:9' }]));
    const p = serve(['--dtls-port', '0', '--credentials', file]);
    const securePort = (await p.wait((l) => l.event === 'listening')).securePort as number;
    const refused = await coapClient(['-v', '7', '-m', 'post', '-e', '</3/0>', '-u', 'id-9', '-k', 'key-of-dev-7', `coaps://127.0.0.1:${securePort}/rd?ep=id-9`]);
    assert.match(refused, /4\.03/, refused);
    const ok = await coapClient(['-v', '7', '-m', 'post', '-e', '</3/0>', '-u', 'id-9', '-k', 'key-of-dev-7', `coaps://127.0.0.1:${securePort}/rd?ep=urn:dev:9`]);
    assert.match(ok, /c:2\.01/, ok);
    const registered = await p.wait((l) => l.event === 'registered');
    assert.equal(registered.endpoint, 'urn:dev:9');
  });
});
