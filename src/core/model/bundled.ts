/**
 * Object models shipped with the extension: OMA objects 0-7, 9, 10, 19, 21 and the IPSO
 * objects 3200-3203 and 3300-3350, every version the OMA LwM2M registry lists for them.
 * The data in `bundled-data/*.json` is written from the registry's published facts (no description
 * text); each resource row is `[id, name, operations, type, instances, mandatory, range?, units?]`
 * in DDF spelling.
 */
import ipso3200 from './bundled-data/ipso-3200.json';
import ipso3300 from './bundled-data/ipso-3300.json';
import ipso3325 from './bundled-data/ipso-3325.json';
import omaCore from './bundled-data/oma-core.json';
import omaManagement from './bundled-data/oma-management.json';
import { parseRange } from './range';
import { BUNDLED_SOURCE, ModelRegistry } from './registry';
import { ddfTypeToValueType, type ObjectModel, type Operations, type ResourceModel } from './types';

type ResourceRow = (string | number)[];

interface ObjectEntry {
  id: number;
  name: string;
  version: string;
  lwm2m?: string;
  urn: string;
  instances: string;
  mandatory: string;
  resources: ResourceRow[];
}

interface BundleFile {
  objects: ObjectEntry[];
}

const FILES: readonly BundleFile[] = [omaCore, omaManagement, ipso3200, ipso3300, ipso3325];

let cache: readonly ObjectModel[] | undefined;

/** The bundled models (built once; the models are frozen). Source is `bundled`. */
export function bundledModels(): ObjectModel[] {
  cache ??= FILES.flatMap((f) => f.objects.map(toModel));
  return [...cache];
}

/** A registry holding the bundled models, plus `extra` ones (which override bundled ones). */
export function createModelRegistry(options?: { extra?: ObjectModel[] }): ModelRegistry {
  const registry = new ModelRegistry();
  registry.addAll(bundledModels());
  if (options?.extra) registry.addAll(options.extra);
  return registry;
}

function toModel(o: ObjectEntry): ObjectModel {
  const model: ObjectModel = {
    id: o.id,
    name: o.name,
    version: o.version,
    urn: o.urn,
    multiple: o.instances === 'Multiple',
    mandatory: o.mandatory === 'Mandatory',
    resources: o.resources.map((row) => toResource(o, row)),
    source: BUNDLED_SOURCE,
  };
  if (o.lwm2m) model.lwm2mVersion = o.lwm2m;
  Object.freeze(model.resources);
  return Object.freeze(model);
}

function toResource(o: ObjectEntry, row: ResourceRow): ResourceModel {
  const [id, name, operations, ddfType, instances, mandatory, range = '', units = ''] = row as [
    number,
    string,
    Operations,
    string,
    string,
    string,
    string?,
    string?,
  ];
  const type = ddfTypeToValueType(ddfType);
  if (type === undefined) throw new Error(`bundled model ${o.id} ${o.version}: resource ${id} has unknown type "${ddfType}"`);
  const resource: ResourceModel = {
    id,
    name,
    operations,
    multiple: instances === 'Multiple',
    mandatory: mandatory === 'Mandatory',
    type,
  };
  const spec = parseRange(range, type);
  if (spec) resource.range = Object.freeze(spec);
  if (units) resource.units = units;
  return Object.freeze(resource);
}
