import type { ModelLookup, ObjectModel, ResourceModel } from './types';

/** The `source` of models shipped with the extension; every other source overrides them. */
export const BUNDLED_SOURCE = 'bundled';

/** A model found for a requested version; `approximate` when its version differs. */
export interface ResolvedModel {
  model: ObjectModel;
  approximate: boolean;
}

interface Entry {
  model: ObjectModel;
  resources: Map<number, ResourceModel>;
}

interface Effective {
  /** The winning entry of each version, sorted by version. */
  sorted: Entry[];
  /** Requested version text → the entry answering it (exact, or nearest once computed). */
  answers: Map<string, Entry>;
}

interface Version {
  major: number;
  minor: number;
}

/** Parses `X.Y` (or `X`, read as `X.0`). */
function parseVersion(text: string): Version | undefined {
  const m = /^\s*(\d+)(?:\.(\d+))?\s*$/.exec(text);
  return m ? { major: Number(m[1]), minor: Number(m[2] ?? 0) } : undefined;
}

function compareVersions(a: Version, b: Version): number {
  return a.major - b.major || a.minor - b.minor;
}

function versionOf(model: ObjectModel): Version {
  return parseVersion(model.version) ?? { major: 1, minor: 0 };
}

/**
 * Picks the model nearest to `want` from `entries` (sorted by version, ascending): among the
 * same major version if there are any, else among all, the highest version at or below
 * `want`, else the lowest above it.
 */
function nearest(entries: readonly Entry[], want: Version): Entry | undefined {
  const sameMajor = entries.filter((e) => versionOf(e.model).major === want.major);
  const pool = sameMajor.length > 0 ? sameMajor : entries;
  const below = pool.filter((e) => compareVersions(versionOf(e.model), want) <= 0);
  return below.length > 0 ? below[below.length - 1] : pool[0];
}

/**
 * Object models keyed by (object id, object version). Several sources may define the same
 * key: a model from any source other than `bundled` wins over the bundled one, and among
 * those the one added last wins. Removing a source brings back what it covered.
 */
export class ModelRegistry implements ModelLookup {
  /** id → version → candidates in the order added. */
  private readonly candidates = new Map<number, Map<string, Entry[]>>();
  /** id → effective models; rebuilt lazily after changes. */
  private effective = new Map<number, Effective>();
  private dirty = false;

  /** Adds a model, replacing an earlier one of the same id, version and source. */
  add(model: ObjectModel): void {
    let versions = this.candidates.get(model.id);
    if (!versions) this.candidates.set(model.id, (versions = new Map()));
    const version = normalizeVersion(model.version);
    const list = (versions.get(version) ?? []).filter((e) => e.model.source !== model.source);
    list.push({ model, resources: new Map(model.resources.map((r) => [r.id, r])) });
    versions.set(version, list);
    this.dirty = true;
  }

  addAll(models: Iterable<ObjectModel>): void {
    for (const m of models) this.add(m);
  }

  /** Removes every model of `source` (e.g. a file being reloaded); returns how many. */
  remove(source: string): number {
    let removed = 0;
    for (const [id, versions] of this.candidates) {
      for (const [version, list] of versions) {
        const kept = list.filter((e) => e.model.source !== source);
        removed += list.length - kept.length;
        if (kept.length === 0) versions.delete(version);
        else versions.set(version, kept);
      }
      if (versions.size === 0) this.candidates.delete(id);
    }
    if (removed > 0) this.dirty = true;
    return removed;
  }

  /**
   * The model for `version` of an object: that exact version when known, else the nearest
   * one (see `resolve`). Without a version, the newest.
   */
  getObject(objectId: number, version?: string): ObjectModel | undefined {
    return this.lookup(objectId, version)?.model;
  }

  /**
   * Like `getObject`, and tells whether the model's version differs from the requested one.
   * Nearest means: the same major version preferred; within it the highest version at or
   * below the requested one, else the lowest above.
   */
  resolve(objectId: number, version?: string): ResolvedModel | undefined {
    const entry = this.lookup(objectId, version);
    if (!entry) return undefined;
    const approximate = version !== undefined && normalizeVersion(entry.model.version) !== normalizeVersion(version);
    return { model: entry.model, approximate };
  }

  getResource(objectId: number, resourceId: number, version?: string): ResourceModel | undefined {
    return this.lookup(objectId, version)?.resources.get(resourceId);
  }

  /** Every effective model, sorted by id then version. */
  list(): ObjectModel[] {
    this.refresh();
    return [...this.effective.keys()].sort((a, b) => a - b).flatMap((id) => this.effective.get(id)!.sorted.map((e) => e.model));
  }

  /** The versions known for an object, ascending. */
  versions(objectId: number): string[] {
    this.refresh();
    return (this.effective.get(objectId)?.sorted ?? []).map((e) => e.model.version);
  }

  private lookup(objectId: number, version: string | undefined): Entry | undefined {
    this.refresh();
    const eff = this.effective.get(objectId);
    if (!eff) return undefined;
    if (version === undefined) return eff.sorted[eff.sorted.length - 1];
    let entry = eff.answers.get(version);
    if (!entry) {
      const want = parseVersion(version);
      entry = (want ? nearest(eff.sorted, want) : undefined) ?? eff.sorted[eff.sorted.length - 1]!;
      eff.answers.set(version, entry);
    }
    return entry;
  }

  /** Recomputes the effective models after changes. */
  private refresh(): void {
    if (!this.dirty) return;
    this.effective = new Map();
    for (const [id, versions] of this.candidates) {
      const sorted = [...versions.values()].map(winner);
      sorted.sort((a, b) => compareVersions(versionOf(a.model), versionOf(b.model)));
      this.effective.set(id, { sorted, answers: new Map(sorted.map((e) => [e.model.version, e])) });
    }
    this.dirty = false;
  }
}

/** The last-added non-bundled candidate, else the last bundled one. */
function winner(list: readonly Entry[]): Entry {
  for (let i = list.length - 1; i >= 0; i--) if (list[i]!.model.source !== BUNDLED_SOURCE) return list[i]!;
  return list[list.length - 1]!;
}

function normalizeVersion(text: string): string {
  const v = parseVersion(text);
  return v ? `${v.major}.${v.minor}` : text.trim();
}
