import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadModelDirectory, loadModelFiles, parseDdf, type ModelProblem } from '../../../src/core/model';

const FIXTURES = join(__dirname, '../../fixtures/ddf');
const fixture = (name: string) => join(FIXTURES, name);
const parseFixture = (name: string) => parseDdf(readFileSync(fixture(name), 'utf8'), fixture(name));
const errors = (problems: ModelProblem[]) => problems.filter((p) => p.severity !== 'warning');

describe('parseDdf', () => {
  it('reads a valid object with every field', () => {
    const { models, problems } = parseFixture('valid-single.xml');
    assert.deepEqual(problems, []);
    assert.equal(models.length, 1);
    const m = models[0]!;
    assert.equal(m.id, 32770);
    assert.equal(m.name, 'Workbench Gadget');
    assert.equal(m.version, '2.1');
    assert.equal(m.lwm2mVersion, '1.1');
    assert.equal(m.urn, 'urn:oma:lwm2m:x:32770:2.1');
    assert.equal(m.multiple, true);
    assert.equal(m.mandatory, false);
    assert.equal(m.source, fixture('valid-single.xml'));
    assert.equal(m.description, 'A <b>gadget</b> with a “dial” & a lamp.');
    assert.deepEqual(
      m.resources.map((r) => [r.id, r.name, r.operations, r.type, r.multiple, r.mandatory]),
      [
        [0, 'Dial Position', 'RW', 'integer', false, true],
        [1, 'Lamp Colours', 'R', 'unsigned integer', true, false],
        [2, 'Blink', 'E', 'none', false, false],
        [3, 'Secret', '', 'opaque', false, false],
      ],
    );
    const [dial, lamp, blink, secret] = m.resources;
    assert.deepEqual(dial!.range, { text: '0..100', min: 0, max: 100 });
    assert.equal(dial!.units, '%');
    assert.equal(dial!.description, 'Where the dial points.\nZero is left.');
    assert.deepEqual(lamp!.range?.enumeration, [
      { value: '0', label: 'off' },
      { value: '1', label: 'red' },
      { value: '2', label: 'green' },
    ]);
    assert.equal(lamp!.units, undefined);
    assert.equal(lamp!.description, undefined);
    assert.equal(blink!.range, undefined);
    assert.equal(blink!.description, 'Blinks the lamp & beeps.');
    assert.equal(secret!.range?.bytes, true);
  });

  it('loads the good objects of a file and reports the broken one at its line', () => {
    const { models, problems } = parseFixture('several.xml');
    assert.deepEqual(
      models.map((m) => [m.id, m.version]),
      [
        [32771, '1.0'],
        [32773, '1.1'],
      ],
    );
    assert.equal(models[0]!.urn, 'urn:oma:lwm2m:x:32771', 'a missing URN is derived');
    assert.equal(models[1]!.urn, 'urn:oma:lwm2m:x:32773:1.1');
    assert.equal(problems.length, 1);
    const p = problems[0]!;
    assert.equal(p.file, fixture('several.xml'));
    assert.equal(p.line, 29);
    assert.equal(p.column, 9);
    assert.equal(p.objectId, 32772);
    assert.match(p.message, /resource 1: unknown <Type> "Decimal"/);
  });

  it('reports XML that is not well-formed with the line of the error', () => {
    const { models, problems } = parseFixture('not-well-formed.xml');
    assert.deepEqual(models, []);
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.line, 10);
    assert.match(problems[0]!.message, /not well-formed XML: .*'Name'.*'Nmae'/);
  });

  it('reports elements left open at the end of the file', () => {
    const { models, problems } = parseFixture('truncated.xml');
    assert.deepEqual(models, []);
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.line, 5);
    assert.match(problems[0]!.message, /end of file reached but <Object> is not closed \(open: LWM2M > Object\)/);
  });

  it('reports a missing ObjectID at the Object element', () => {
    const { models, problems } = parseFixture('missing-id.xml');
    assert.deepEqual(models, []);
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.line, 3);
    assert.equal(problems[0]!.objectId, undefined);
    assert.match(problems[0]!.message, /object without <ObjectID>/);
  });

  it('reports a duplicate resource id at the second Item and names the first line', () => {
    const { models, problems } = parseFixture('duplicate-resource.xml');
    assert.deepEqual(models, []);
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.line, 16);
    assert.equal(problems[0]!.objectId, 32776);
    assert.match(problems[0]!.message, /resource 5 is defined twice \(first at line 9\)/);
  });

  it('reports every bad field of an object, each at its own line', () => {
    const { models, problems } = parseFixture('bad-fields.xml');
    assert.deepEqual(models, []);
    assert.deepEqual(
      problems.map((p) => [p.line, p.objectId]),
      [
        [6, 32777],
        [7, 32777],
        [10, 32777],
        [19, 32777],
        [21, 32777],
        [24, 32777],
      ],
    );
    const messages = problems.map((p) => p.message);
    assert.match(messages[0]!, /<ObjectVersion> "one" is not of the form X\.Y/);
    assert.match(messages[1]!, /<MultipleInstances> must be Single or Multiple, found "Several"/);
    assert.match(messages[2]!, /<Item> has ID "x1", not an id/);
    assert.match(messages[3]!, /resource 2: <Operations> "RX" is not one of/);
    assert.match(messages[4]!, /resource 2: <Mandatory> must be Optional or Mandatory, found "Sometimes"/);
    assert.match(messages[5]!, /<Item> has ID "70000"/);
  });

  it('handles a byte order mark and CRLF line ends', () => {
    const { models, problems } = parseFixture('bom-crlf.xml');
    assert.deepEqual(models, []);
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.line, 14);
    assert.equal(problems[0]!.column, 9);
    assert.match(problems[0]!.message, /unknown <Type> "Real"/);
  });

  it('reads attribute values in typographic quotes, with a warning per value', () => {
    const { models, problems } = parseFixture('smart-quotes.xml');
    assert.equal(models.length, 1);
    assert.equal(models[0]!.resources[0]!.id, 4);
    assert.equal(models[0]!.description, 'Says “hello” = ‘hi’.');
    assert.deepEqual(
      problems.map((p) => [p.line, p.severity]),
      [
        [3, 'warning'],
        [10, 'warning'],
      ],
    );
    assert.deepEqual(errors(problems), []);
  });

  it('reports a document without objects', () => {
    const { problems } = parseDdf('<?xml version="1.0"?>\n<Catalogue/>\n', 'x.xml');
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.line, 2);
    assert.match(problems[0]!.message, /no <Object> element/);
  });

  it('reports an empty file', () => {
    const { models, problems } = parseDdf('', 'empty.xml');
    assert.deepEqual(models, []);
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.file, 'empty.xml');
  });

  it('reports an object defined twice in one file and keeps the first', () => {
    const obj = (name: string) =>
      `<Object><Name>${name}</Name><ObjectID>40000</ObjectID><MultipleInstances>Single</MultipleInstances><Mandatory>Optional</Mandatory><Resources/></Object>`;
    const { models, problems } = parseDdf(`<LWM2M>\n${obj('A')}\n${obj('B')}\n</LWM2M>`, 'twice.xml');
    assert.deepEqual(
      models.map((m) => m.name),
      ['A'],
    );
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.line, 3);
    assert.match(problems[0]!.message, /object 40000 version 1\.0 is already defined at line 2/);
  });

  it('decodes character references in text', () => {
    const xml =
      '<LWM2M><Object><Name>A &amp; B</Name><ObjectID>40001</ObjectID><MultipleInstances>Single</MultipleInstances><Mandatory>Optional</Mandatory>' +
      '<Resources><Item ID="0"><Name>pH</Name><Operations>R</Operations><MultipleInstances>Single</MultipleInstances><Mandatory>Optional</Mandatory>' +
      '<Type>Float</Type><RangeEnumeration>&#60;7 to &#62;12.5</RangeEnumeration></Item></Resources></Object></LWM2M>';
    const { models, problems } = parseDdf(xml, 'refs.xml');
    assert.deepEqual(problems, []);
    assert.equal(models[0]!.name, 'A & B');
    assert.deepEqual(models[0]!.resources[0]!.range, { text: '<7 to >12.5' });
  });
});

describe('loadModelFiles / loadModelDirectory', () => {
  it('loads files and reports unreadable ones', async () => {
    const missing = fixture('does-not-exist.xml');
    const { models, problems } = await loadModelFiles([fixture('valid-single.xml'), missing]);
    assert.deepEqual(
      models.map((m) => m.id),
      [32770],
    );
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.file, missing);
    assert.match(problems[0]!.message, /cannot read file/);
  });

  it('reads *.xml below a directory recursively and warns about objects defined twice', async () => {
    const dir = fixture('tree');
    const { models, problems } = await loadModelDirectory(dir);
    assert.deepEqual(
      models.map((m) => [m.name, m.source]),
      [
        ['Tree A', join(dir, 'a.xml')],
        ['Tree A again', join(dir, 'nested', 'also-a.xml')],
        ['Tree B', join(dir, 'nested', 'b.XML')],
      ],
    );
    assert.equal(problems.length, 1);
    const p = problems[0]!;
    assert.equal(p.severity, 'warning');
    assert.equal(p.file, join(dir, 'nested', 'also-a.xml'));
    assert.equal(p.line, 2);
    assert.match(p.message, /object 32780 version 1\.0 is also defined in .*a\.xml/);
  });

  it('reports a directory that cannot be read', async () => {
    const { models, problems } = await loadModelDirectory(fixture('no-such-dir'));
    assert.deepEqual(models, []);
    assert.equal(problems.length, 1);
    assert.match(problems[0]!.message, /cannot read directory/);
  });

  it('loads the whole fixture directory without throwing, one problem list per broken file', async () => {
    const { models, problems } = await loadModelDirectory(FIXTURES);
    assert.ok(models.some((m) => m.id === 32770));
    for (const name of ['not-well-formed.xml', 'truncated.xml', 'missing-id.xml', 'duplicate-resource.xml', 'bad-fields.xml']) {
      assert.ok(
        errors(problems).some((p) => p.file === fixture(name)),
        `${name} has an error`,
      );
    }
  });
});
