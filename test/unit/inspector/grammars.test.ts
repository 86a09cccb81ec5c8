// The TextMate grammars in syntaxes/: registered in package.json, valid JSON, every pattern
// compiles, and the key patterns match real lines (registration payloads, traffic-log lines).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');
const read = (p: string) => JSON.parse(readFileSync(join(root, p), 'utf8')) as Record<string, unknown>;

interface Rule {
  match?: string;
  begin?: string;
  end?: string;
  patterns?: Rule[];
  repository?: Record<string, Rule>;
  [k: string]: unknown;
}

function regexes(rule: Rule, out: string[] = []): string[] {
  for (const k of ['match', 'begin', 'end'] as const) if (typeof rule[k] === 'string') out.push(rule[k]);
  for (const p of rule.patterns ?? []) regexes(p, out);
  for (const r of Object.values(rule.repository ?? {})) regexes(r, out);
  for (const c of ['captures', 'beginCaptures', 'endCaptures'] as const) {
    const caps = rule[c] as Record<string, Rule> | undefined;
    for (const cap of Object.values(caps ?? {})) regexes(cap, out);
  }
  return out;
}

describe('grammars', () => {
  const pkg = read('package.json') as { contributes: { languages: { id: string; extensions: string[]; configuration: string }[]; grammars: { language: string; scopeName: string; path: string }[] } };

  it('registers CoRE Link Format (*.link) and the traffic log (*.coaplog) with their grammars', () => {
    const link = pkg.contributes.languages.find((l) => l.id === 'core-link');
    const log = pkg.contributes.languages.find((l) => l.id === 'lwm2m-coaplog');
    assert.ok(link?.extensions.includes('.link'));
    assert.ok(log?.extensions.includes('.coaplog'));
    for (const g of pkg.contributes.grammars.filter((x) => x.language === 'core-link' || x.language === 'lwm2m-coaplog')) {
      assert.ok(existsSync(join(root, g.path)), g.path);
      assert.equal(read(g.path).scopeName, g.scopeName);
    }
    for (const l of [link!, log!]) assert.ok(existsSync(join(root, l.configuration)));
  });

  it('every pattern compiles', () => {
    for (const file of ['syntaxes/core-link.tmLanguage.json', 'syntaxes/coaplog.tmLanguage.json']) {
      const list = regexes(read(file) as Rule);
      assert.ok(list.length > 10);
      for (const r of list) assert.doesNotThrow(() => new RegExp(r), `${file}: ${r}`);
    }
  });

  it('link format: parameters, known attributes, numbers', () => {
    const g = read('syntaxes/core-link.tmLanguage.json') as Rule;
    const param = new RegExp(g.repository!.parameter!.begin!);
    const m = param.exec('</3/0>;ver=1.1');
    assert.equal(m?.[2], 'ver');
    const known = new RegExp(g.repository!['parameter-name']!.patterns![0]!.match!);
    for (const a of ['rt', 'ct', 'ver', 'pmin', 'pmax', 'dim', 'lwm2m', 'ep']) assert.ok(known.test(a), a);
    assert.ok(!known.test('foo'));
  });

  it('traffic log: hex payloads, codes, types and paths', () => {
    const g = read('syntaxes/coaplog.tmLanguage.json') as Rule;
    const line = readFileSync(join(root, 'test', 'fixtures', 'payloads', 'traffic.coaplog'), 'utf8').split('\n')[3]!;
    assert.doesNotThrow(() => JSON.parse(line));
    const hex = new RegExp(g.repository!['hex-member']!.match!, 'g');
    const found = [...line.matchAll(hex)].map((m) => [m[1], m[4]]);
    assert.deepEqual(found, [
      ['"token"', '0c'],
      ['"payload"', 'c800144f70656e204d6f62696c6520416c6c69616e6365'],
    ]);
    const strings = g.repository!.string!.patterns!.map((p) => p.match).filter((x): x is string => !!x);
    const scope = (s: string): string => String(g.repository!.string!.patterns!.find((p) => p.match && new RegExp(`^${p.match}$`).test(s))?.name ?? '');
    assert.ok(strings.length >= 6);
    assert.match(scope('"ACK"'), /message-type/);
    assert.match(scope('"2.05"'), /success/);
    assert.match(scope('"4.04"'), /error/);
    assert.match(scope('"/3/0/1"'), /lwm2m-path/);
  });
});
