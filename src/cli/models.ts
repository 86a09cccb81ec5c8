/** `lwm2m-workbench models`: list the object models, or show one object with its resources. */
import type { Command } from 'commander';
import type { ModelRegistry } from '../core/model';
import { valueTypeToDdf, type ObjectModel, type ResourceModel } from '../core/model/types';
import { CliError, collect, loadModels, type CliIo } from './common';

interface ModelsOptions {
  models: string[];
  json?: boolean;
}

/** JSON shape of one object (types and operations spelled as in DDF). */
export interface ObjectJson {
  id: number;
  version: string;
  name: string;
  multiple: boolean;
  mandatory: boolean;
  resources: ResourceJson[];
}

export interface ResourceJson {
  id: number;
  name: string;
  operations: string;
  type: string;
  multiple: boolean;
  mandatory: boolean;
  units: string;
}

export function objectToJson(o: ObjectModel): ObjectJson {
  return {
    id: o.id,
    version: o.version,
    name: o.name,
    multiple: o.multiple,
    mandatory: o.mandatory,
    resources: o.resources.map(resourceToJson),
  };
}

function resourceToJson(r: ResourceModel): ResourceJson {
  return { id: r.id, name: r.name, operations: r.operations, type: valueTypeToDdf(r.type), multiple: r.multiple, mandatory: r.mandatory, units: r.units ?? '' };
}

/** Left-aligned text table with two spaces between columns. */
function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

const yesNo = (b: boolean): string => (b ? 'yes' : 'no');

function select(registry: ModelRegistry, spec: string | undefined): ObjectModel[] {
  if (spec === undefined) return registry.list();
  const m = /^(\d{1,5})(?:\/(\d+(?:\.\d+)?))?$/.exec(spec.trim());
  if (!m) throw new CliError(`"${spec}" is not OBJECT_ID or OBJECT_ID/VERSION (e.g. 3 or 3/1.1)`, 2);
  const id = Number(m[1]);
  const versions = registry.versions(id);
  if (versions.length === 0) throw new CliError(`no model for object ${id}`);
  if (m[2] === undefined) return [registry.getObject(id)!];
  const want = m[2].includes('.') ? m[2] : `${m[2]}.0`;
  const exact = registry.list().find((o) => o.id === id && o.version === want);
  if (!exact) throw new CliError(`no model for object ${id} version ${want} (known: ${versions.join(', ')})`);
  return [exact];
}

export function registerModels(program: Command, io: CliIo): void {
  program
    .command('models')
    .summary('list object models, or show one object')
    .description(
      'Without an argument, list every loaded object model (bundled ones plus --models\n' +
        'directories). With OBJECT_ID[/VERSION], show that object and its resources\n' +
        '(id, name, operations, type, multiple, mandatory, units); the newest version by default.',
    )
    .argument('[object]', 'OBJECT_ID or OBJECT_ID/VERSION, e.g. 3 or 3/1.1')
    .option('-m, --models <dir>', 'load DDF object models (*.xml) from this directory; repeatable', collect, [])
    .option('--json', 'print {"objects": [...]} with resources, types and operations spelled as in DDF')
    .action(async (spec: string | undefined, opts: ModelsOptions) => {
      const registry = await loadModels(opts.models, io);
      const objects = select(registry, spec);
      if (opts.json) {
        io.stdout(JSON.stringify({ objects: objects.map(objectToJson) }, null, 2) + '\n');
        return;
      }
      if (spec === undefined) {
        io.stdout(
          table(
            ['ID', 'VERSION', 'NAME', 'INSTANCES', 'MANDATORY'],
            objects.map((o) => [String(o.id), o.version, o.name, o.multiple ? 'multiple' : 'single', yesNo(o.mandatory)]),
          ),
        );
        return;
      }
      const o = objects[0]!;
      io.stdout(`${o.id} ${o.name} (version ${o.version}, ${o.multiple ? 'multiple' : 'single'} instance${o.multiple ? 's' : ''}, ${o.mandatory ? 'mandatory' : 'optional'})\n`);
      if (o.urn) io.stdout(`${o.urn}\n`);
      io.stdout('\n');
      io.stdout(
        table(
          ['ID', 'NAME', 'OPERATIONS', 'TYPE', 'MULTIPLE', 'MANDATORY', 'UNITS'],
          o.resources.map((r) => [String(r.id), r.name, r.operations || '-', valueTypeToDdf(r.type) || '-', yesNo(r.multiple), yesNo(r.mandatory), r.units ?? '']),
        ),
      );
    });
}
