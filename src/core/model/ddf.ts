/**
 * Loader for LwM2M object definitions in the OMA DDF XML format (lwm2m-protocol.md §16).
 *
 * Nothing is dropped silently: every problem is reported with its file, line and reason.
 * An object with an error is skipped; the other objects of the same file still load.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { parseRange } from './range';
import { ddfTypeToValueType, type ObjectModel, type Operations, type ResourceModel } from './types';

/** A problem found while loading object definitions. */
export interface ModelProblem {
  file: string;
  /** 1-based line of the offending element (or of the XML syntax error). */
  line: number;
  /** 1-based column, when known. */
  column?: number;
  message: string;
  /** The object the problem belongs to, when its id is known. */
  objectId?: number;
  /** `warning`: the model still loaded (e.g. a value was repaired). Absent means error. */
  severity?: Severity;
}

export type Severity = 'error' | 'warning';

/** Models that loaded, and every problem met on the way. */
export interface ModelLoadResult {
  models: ObjectModel[];
  problems: ModelProblem[];
}

// ----- XML access (fast-xml-parser "preserveOrder" nodes) ----------------------------------------

type XmlNode = { [key: string]: unknown; [key: symbol]: unknown };

const META = XMLParser.getMetaDataSymbol() as unknown as symbol;
const ATTRS = ':@';

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  htmlEntities: true,
  captureMetaData: true,
});

function tagOf(node: XmlNode): string {
  return Object.keys(node).find((k) => k !== ATTRS) ?? '';
}

function childrenOf(node: XmlNode): XmlNode[] {
  const c = node[tagOf(node)];
  return Array.isArray(c) ? (c as XmlNode[]) : [];
}

function elements(node: XmlNode, tag: string): XmlNode[] {
  return childrenOf(node).filter((c) => tagOf(c) === tag);
}

function attribute(node: XmlNode, name: string): string | undefined {
  const attrs = node[ATTRS] as Record<string, string> | undefined;
  return attrs?.[name];
}

/** All text below a node (CDATA and text of embedded HTML included; `<br>` is a line break), trimmed. */
function textOf(node: XmlNode | undefined): string {
  if (!node) return '';
  const collect = (n: XmlNode): string => {
    const tag = tagOf(n);
    if (tag === '#text') return String(n[tag]);
    if (tag.toLowerCase() === 'br') return '\n';
    return childrenOf(n).map(collect).join('');
  };
  return collect(node).trim();
}

function offsetOf(node: XmlNode): number {
  const meta = node[META] as { startIndex?: number } | undefined;
  return meta?.startIndex ?? 0;
}

// ----- positions and problems ---------------------------------------------------------------

interface Position {
  line: number;
  column: number;
}

/** Maps string offsets to 1-based line/column (lines end at `\n`, as the validator counts them). */
class LineMap {
  private readonly starts: number[] = [0];

  constructor(text: string) {
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) this.starts.push(i + 1);
  }

  at(offset: number): Position {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - this.starts[lo]! + 1 };
  }
}

class Reporter {
  readonly problems: ModelProblem[] = [];
  private readonly lines: LineMap;
  errors = 0;

  constructor(
    readonly file: string,
    text: string,
  ) {
    this.lines = new LineMap(text);
  }

  positionOf(node: XmlNode): Position {
    return this.lines.at(offsetOf(node));
  }

  lineOf(node: XmlNode): number {
    return this.positionOf(node).line;
  }

  /** Reports at an element or a string offset. */
  report(at: XmlNode | number, message: string, objectId?: number, severity: Severity = 'error'): void {
    this.reportAt(typeof at === 'number' ? this.lines.at(at) : this.positionOf(at), message, objectId, severity);
  }

  reportAt(pos: Position, message: string, objectId?: number, severity: Severity = 'error'): void {
    const problem: ModelProblem = { file: this.file, line: pos.line, column: pos.column, message };
    if (objectId !== undefined) problem.objectId = objectId;
    if (severity === 'warning') problem.severity = 'warning';
    else this.errors++;
    this.problems.push(problem);
  }
}

// ----- parsing ------------------------------------------------------------------------------

/** Where each parsed model's `<Object>` starts, for problems found across files. */
const definedAt = new WeakMap<ObjectModel, Position>();

/**
 * Parses DDF XML holding one or several `<Object>`s (under `<LWM2M>`). Each model gets
 * `source = file`. Never throws.
 */
export function parseDdf(xml: string, file: string): ModelLoadResult {
  const rep = new Reporter(file, xml);
  const text = repairSmartQuotes(xml, rep);
  const invalid = XMLValidator.validate(text);
  if (invalid !== true) {
    reportSyntaxError(invalid.err, text, rep);
    return { models: [], problems: rep.problems };
  }
  let top: XmlNode[];
  try {
    top = parser.parse(text) as XmlNode[];
  } catch (e) {
    rep.report(0, `cannot parse XML: ${e instanceof Error ? e.message : String(e)}`);
    return { models: [], problems: rep.problems };
  }
  const roots = top.filter((n) => /^[A-Za-z_]/.test(tagOf(n)));
  const objects = roots.flatMap((r) => (tagOf(r) === 'Object' ? [r] : elements(r, 'Object')));
  if (objects.length === 0) {
    rep.report(roots[0] ?? 0, 'no <Object> element found (expected <LWM2M><Object>…</Object></LWM2M>)');
  }

  const models: ObjectModel[] = [];
  const seen = new Map<string, XmlNode>();
  for (const node of objects) {
    const model = readObject(node, rep);
    if (!model) continue;
    const key = `${model.id}@${model.version}`;
    const first = seen.get(key);
    if (first) {
      rep.report(node, `object ${model.id} version ${model.version} is already defined at line ${rep.lineOf(first)}`, model.id);
      continue;
    }
    seen.set(key, node);
    const loaded = { ...model, source: file };
    definedAt.set(loaded, rep.positionOf(node));
    models.push(loaded);
  }
  return { models, problems: rep.problems };
}

/** An attribute value in a start tag delimited by typographic quotes: `<Item ID=“5700”>`. */
const SMART_QUOTED_ATTR = /(<[A-Za-z_][^<>]*?\s[\w.:-]+\s*=\s*)[“”„″]([^“”„″"<>]*)[“”„″]/g;

/**
 * Replaces typographic quotes around attribute values by `"`. Each quote is one UTF-16 unit,
 * so offsets stay valid. Reported as a warning.
 */
function repairSmartQuotes(xml: string, rep: Reporter): string {
  let text = xml;
  for (let before = ''; before !== text; ) {
    before = text;
    text = text.replace(SMART_QUOTED_ATTR, (_match, head: string, value: string, offset: number) => {
      rep.report(offset + head.length, `typographic quotes around attribute value "${value}" read as plain quotes`, undefined, 'warning');
      return `${head}"${value}"`;
    });
  }
  return text;
}

function reportSyntaxError(err: { code: string; msg: string; line: number; col: number }, text: string, rep: Reporter): void {
  const unclosed = /^Invalid '(\[.*\])' found\.$/.exec(err.msg);
  if (unclosed) {
    // The validator reports "several elements left open at the end of file" at 1:1.
    const names = JSON.parse(unclosed[1]!) as string[];
    rep.report(text.trimEnd().length, `not well-formed XML: end of file reached but <${names.at(-1)}> is not closed (open: ${names.join(' > ')})`);
    return;
  }
  rep.reportAt({ line: err.line, column: err.col }, `not well-formed XML: ${err.msg}`);
}

const ID_TEXT = /^\d{1,5}$/;

function parseId(text: string | undefined): number | undefined {
  const t = text?.trim() ?? '';
  if (!ID_TEXT.test(t)) return undefined;
  const n = Number(t);
  return n <= 65534 ? n : undefined;
}

function urnFor(id: number, version: string): string {
  const kind = id < 1024 ? 'oma' : id >= 2048 && id <= 10240 ? 'ext' : 'x';
  return `urn:oma:lwm2m:${kind}:${id}${version === '1.0' ? '' : `:${version}`}`;
}

const VERSION = /^\d+\.\d+$/;
const OPERATIONS: readonly Operations[] = ['', 'R', 'W', 'RW', 'E'];

/** Reads `Single`/`Multiple` or `Mandatory`/`Optional` (any case); reports anything else. */
function readFlag(
  parent: XmlNode,
  tag: 'MultipleInstances' | 'Mandatory',
  rep: Reporter,
  objectId: number | undefined,
  where: string,
): boolean {
  const [yes, no] = tag === 'MultipleInstances' ? ['Multiple', 'Single'] : ['Mandatory', 'Optional'];
  const node = elements(parent, tag)[0];
  const t = textOf(node).toLowerCase();
  if (t === yes.toLowerCase()) return true;
  if (t !== no.toLowerCase()) {
    const found = node ? `"${textOf(node)}"` : 'nothing';
    rep.report(node ?? parent, `${where}: <${tag}> must be ${no} or ${yes}, found ${found}`, objectId);
  }
  return false;
}

function readObject(node: XmlNode, rep: Reporter): ObjectModel | undefined {
  const errorsBefore = rep.errors;
  const idNode = elements(node, 'ObjectID')[0];
  const id = parseId(textOf(idNode));
  if (!idNode) rep.report(node, 'object without <ObjectID>');
  else if (id === undefined) rep.report(idNode, `<ObjectID> "${textOf(idNode)}" is not an id in 0..65534`);
  const label = id === undefined ? 'object' : `object ${id}`;

  const name = textOf(elements(node, 'Name')[0]);
  if (name === '') rep.report(node, `${label} has no <Name>`, id);

  const versionNode = elements(node, 'ObjectVersion')[0];
  let version = textOf(versionNode) || '1.0';
  if (!VERSION.test(version)) {
    rep.report(versionNode!, `${label}: <ObjectVersion> "${version}" is not of the form X.Y`, id);
    version = '1.0';
  }
  const lwm2mNode = elements(node, 'LWM2MVersion')[0];
  const lwm2mVersion = textOf(lwm2mNode);
  if (lwm2mVersion !== '' && !VERSION.test(lwm2mVersion)) {
    rep.report(lwm2mNode!, `${label}: <LWM2MVersion> "${lwm2mVersion}" is not of the form X.Y; ignored`, id, 'warning');
  }
  const multiple = readFlag(node, 'MultipleInstances', rep, id, label);
  const mandatory = readFlag(node, 'Mandatory', rep, id, label);

  const items = elements(node, 'Resources').flatMap((r) => elements(r, 'Item'));
  const resources: ResourceModel[] = [];
  const itemById = new Map<number, XmlNode>();
  for (const item of items) {
    const resource = readResource(item, rep, id, label);
    if (!resource) continue;
    const first = itemById.get(resource.id);
    if (first) {
      rep.report(item, `${label}: resource ${resource.id} is defined twice (first at line ${rep.lineOf(first)})`, id);
      continue;
    }
    itemById.set(resource.id, item);
    resources.push(resource);
  }
  if (rep.errors > errorsBefore || id === undefined) return undefined;

  const model: ObjectModel = {
    id,
    name,
    version,
    urn: textOf(elements(node, 'ObjectURN')[0]) || urnFor(id, version),
    multiple,
    mandatory,
    resources,
  };
  if (VERSION.test(lwm2mVersion)) model.lwm2mVersion = lwm2mVersion;
  const description = textOf(elements(node, 'Description1')[0]);
  if (description) model.description = description;
  return model;
}

function readResource(item: XmlNode, rep: Reporter, objectId: number | undefined, label: string): ResourceModel | undefined {
  const errorsBefore = rep.errors;
  const idText = attribute(item, 'ID');
  const id = parseId(idText);
  if (id === undefined) {
    const what = idText === undefined ? 'has no ID attribute' : `has ID "${idText}", not an id in 0..65534`;
    rep.report(item, `${label}: <Item> ${what}`, objectId);
  }
  const where = id === undefined ? label : `${label} resource ${id}`;

  const name = textOf(elements(item, 'Name')[0]);
  if (name === '') rep.report(item, `${where} has no <Name>`, objectId);

  const opsNode = elements(item, 'Operations')[0];
  const ops = textOf(opsNode).toUpperCase() as Operations;
  if (!OPERATIONS.includes(ops)) {
    rep.report(opsNode!, `${where}: <Operations> "${textOf(opsNode)}" is not one of R, W, RW, E or empty`, objectId);
  }
  const typeNode = elements(item, 'Type')[0];
  const type = ddfTypeToValueType(textOf(typeNode));
  if (type === undefined) {
    rep.report(
      typeNode!,
      `${where}: unknown <Type> "${textOf(typeNode)}" (expected String, Integer, Unsigned Integer, Float, Boolean, Opaque, Time, Objlnk, Corelnk or empty)`,
      objectId,
    );
  }
  const multiple = readFlag(item, 'MultipleInstances', rep, objectId, where);
  const mandatory = readFlag(item, 'Mandatory', rep, objectId, where);
  if (rep.errors > errorsBefore || id === undefined || type === undefined) return undefined;

  const resource: ResourceModel = { id, name, operations: ops, multiple, mandatory, type };
  const range = parseRange(textOf(elements(item, 'RangeEnumeration')[0]), type);
  if (range) resource.range = range;
  const units = textOf(elements(item, 'Units')[0]);
  if (units) resource.units = units;
  const description = textOf(elements(item, 'Description')[0]);
  if (description) resource.description = description;
  return resource;
}

// ----- files ---------------------------------------------------------------------------------

/**
 * Reads and parses DDF files. Unreadable files become problems. An object id + version
 * defined by several files is reported as a warning; all copies are returned in file order
 * (so the last one wins when they are added to a registry).
 */
export async function loadModelFiles(paths: readonly string[]): Promise<ModelLoadResult> {
  const results = await Promise.all(
    paths.map(async (file): Promise<ModelLoadResult> => {
      try {
        return parseDdf(await readFile(file, 'utf8'), file);
      } catch (e) {
        return { models: [], problems: [{ file, line: 1, message: `cannot read file: ${errorText(e)}` }] };
      }
    }),
  );
  const models: ObjectModel[] = [];
  const problems: ModelProblem[] = [];
  const firstSource = new Map<string, string>();
  for (const result of results) {
    problems.push(...result.problems);
    for (const model of result.models) {
      const key = `${model.id}@${model.version}`;
      const other = firstSource.get(key);
      if (other === undefined) firstSource.set(key, model.source!);
      else {
        const at = definedAt.get(model) ?? { line: 1, column: 1 };
        problems.push({
          file: model.source!,
          line: at.line,
          column: at.column,
          message: `object ${model.id} version ${model.version} is also defined in ${other}; this definition is used`,
          objectId: model.id,
          severity: 'warning',
        });
      }
      models.push(model);
    }
  }
  return { models, problems };
}

/** Loads every `*.xml` file below `dir` (recursively, in name order). */
export async function loadModelDirectory(dir: string): Promise<ModelLoadResult> {
  let files: string[];
  try {
    files = await findXmlFiles(dir);
  } catch (e) {
    return { models: [], problems: [{ file: dir, line: 1, message: `cannot read directory: ${errorText(e)}` }] };
  }
  return loadModelFiles(files);
}

async function findXmlFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const out: string[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await findXmlFiles(path)));
    else if (entry.isFile() && entry.name.toLowerCase().endsWith('.xml')) out.push(path);
  }
  return out;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
