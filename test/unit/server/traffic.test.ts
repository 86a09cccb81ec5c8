import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Code, type CoapMessage, type MessageType } from '../../../src/core/coap/message';
import { OptionNumber as Opt, stringOptions, uintOption } from '../../../src/core/coap/options';
import { TrafficLog, summarizeTrafficEntry } from '../../../src/core/server/traffic';

function entry(type: MessageType, code: number, options: CoapMessage['options'], payload = '') {
  const log = new TrafficLog(1);
  const message: CoapMessage = { type, code, mid: 1, token: Buffer.from('ab', 'hex'), options: options.sort((a, b) => a.number - b.number), payload: Buffer.from(payload) };
  return log.addMessage({ time: 0, direction: 'in', peer: { address: '127.0.0.1', port: 1 }, message, size: 10 });
}

const path = (p: string) => stringOptions(Opt.UriPath, p.split('/').filter(Boolean));
const query = (...q: string[]) => stringOptions(Opt.UriQuery, q);

describe('summarizeTrafficEntry (the decoded summary of the traffic log)', () => {
  it('names LwM2M requests from method, path and options', () => {
    const cases: [ReturnType<typeof entry>, string][] = [
      [entry('CON', 0x02, [...path('rd'), ...query('ep=dev1', 'lt=300'), uintOption(Opt.ContentFormat, 40)], '</1/0>,</3/0>'), 'Register ep=dev1 lt=300 (2 links)'],
      [entry('CON', 0x02, [...path('rd/5a3f')]), 'Update /rd/5a3f'],
      [entry('CON', 0x04, [...path('rd/5a3f')]), 'De-register /rd/5a3f'],
      [entry('CON', 0x01, [...path('3/0'), uintOption(Opt.Accept, 11542)]), 'Read /3/0 accept tlv'],
      [entry('CON', 0x01, [...path('3/0'), uintOption(Opt.Accept, 40)]), 'Discover /3/0'],
      [entry('CON', 0x01, [...path('3303/0/5700'), uintOption(Opt.Observe, 0)]), 'Observe /3303/0/5700'],
      [entry('CON', 0x01, [...path('3303/0/5700'), uintOption(Opt.Observe, 1)]), 'Cancel observation /3303/0/5700'],
      [entry('CON', 0x03, [...path('3/0/14'), uintOption(Opt.ContentFormat, 0)], '+02:00'), 'Write (replace) /3/0/14 text 6 B'],
      [entry('CON', 0x03, [...path('3/0/9'), ...query('pmin=1', 'pmax')]), 'Write-Attributes /3/0/9 pmin=1 pmax'],
      [entry('CON', 0x02, [...path('3/0/4')], "0,1='x'"), "Execute /3/0/4 0,1='x'"],
      [entry('CON', 0x02, [...path('3303'), uintOption(Opt.ContentFormat, 110)], '[]'), 'Create /3303 senml-json 2 B'],
      [entry('CON', 0x02, [...path('3303/0'), uintOption(Opt.ContentFormat, 110)], '[]'), 'Write (update) /3303/0 senml-json 2 B'],
      [entry('CON', 0x04, [...path('3303/1')]), 'Delete /3303/1'],
      [entry('CON', 0x05, [uintOption(Opt.ContentFormat, 112), uintOption(Opt.Accept, 112)], 'xx'), 'Read-Composite accept senml-cbor senml-cbor 2 B'],
      [entry('CON', 0x07, [uintOption(Opt.ContentFormat, 110)], '[]'), 'Write-Composite senml-json 2 B'],
      [entry('NON', 0x02, [...path('dp'), uintOption(Opt.ContentFormat, 112)], 'abc'), 'Send senml-cbor 3 B'],
      [entry('CON', 0x02, [...path('bs'), ...query('ep=x')]), 'Bootstrap-Request ep=x'],
      [entry('CON', 0x02, [...path('bs')]), 'Bootstrap-Finish'],
    ];
    for (const [e, want] of cases) assert.equal(summarizeTrafficEntry(e), want);
  });

  it('says what responses and empty messages carry', () => {
    assert.equal(summarizeTrafficEntry(entry('ACK', Code.Created, stringOptions(Opt.LocationPath, ['rd', '5a3f']))), '2.01 Created at /rd/5a3f');
    assert.equal(summarizeTrafficEntry(entry('ACK', Code.Content, [uintOption(Opt.ContentFormat, 11542)], 'abcd')), '2.05 Content tlv 4 B');
    assert.equal(summarizeTrafficEntry(entry('NON', Code.Content, [uintOption(Opt.Observe, 12), uintOption(Opt.ContentFormat, 0)], '21')), 'Notify seq 12 text 2 B');
    assert.equal(summarizeTrafficEntry(entry('ACK', Code.NotFound, [])), '4.04 Not Found');
    assert.equal(summarizeTrafficEntry(entry('ACK', 0, [])), 'Empty ACK');
    assert.equal(summarizeTrafficEntry(entry('RST', 0, [])), 'RST');
    assert.equal(summarizeTrafficEntry(entry('CON', 0, [])), 'Ping');
  });
});
