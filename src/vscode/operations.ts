import * as vscode from 'vscode';
import type { Lwm2mAttributes } from '../core/codec/link';
import { FORMATS, formatName, parseFormat } from '../core/contentFormat';
import type { ResourceModel } from '../core/model/types';
import type { Lwm2mRecord, Value, ValueType } from '../core/node';
import { Lwm2mPath } from '../core/path';
import { parseAttributes, WRITABLE_ATTRIBUTES, type AttributeName, type AttributeUpdate } from '../core/server/attributes';
import { parseExecuteArguments } from '../core/server/execute';
import { RequestAbortedError, RequestCancelledError } from '../core/server/errors';
import type { CreateResponse, DiscoverResponse, Lwm2mResponse, ObserveResponse, ReadResponse } from '../core/server/operations';
import type { ClientInfo } from './clientStore';
import type { ClientsTreeNode, ClientsTreeProvider } from './clientsTree';
import { Commands } from './commands';
import { readSettings } from './config';
import { describeError, showValue } from './present';
import type { ServerController } from './serverController';
import { askValue, parseValue } from './valueInput';

/** Where an operation goes: a client and a path. Tree nodes and observation nodes have this shape. */
export interface Target {
  endpoint: string;
  path: string;
}

/** Options any operation command accepts as its second argument (tests and scripts skip the prompts). */
export interface RequestOptions {
  /** Content format by number or name (`tlv`, `senml-json`, …). */
  format?: number | string;
  timeoutMs?: number;
  /** Reject the command's promise on failure (besides showing the error). */
  throwErrors?: boolean;
}

export interface WriteArgs extends RequestOptions {
  /** The value: typed, or text parsed by the resource type (hex for opaque). */
  value?: Value | string;
  /** Value type when no model describes the resource. */
  type?: ValueType;
}

export interface ExecuteArgs extends RequestOptions {
  /** Execute arguments, e.g. `0,1='x'`; '' for none. */
  args?: string;
}

export interface CreateArgs extends RequestOptions {
  instanceId?: number;
  /** Resource id → value (typed or text). */
  values?: Record<number, Value | string>;
}

export interface AttributesArgs extends RequestOptions {
  attributes?: AttributeUpdate | string;
}

export interface ObserveArgs extends RequestOptions {
  /** LwM2M 1.2 attributes for this observation only. */
  attributes?: string;
}

export interface CompositeArgs extends RequestOptions {
  paths?: string[];
  /** Write-Composite: path → value. */
  values?: Record<string, Value | string>;
}

export interface CancelArgs {
  /** Observation id (else every observation of the path). */
  id?: string;
  /** Passive cancel (forget; the next notification gets a RST) instead of an active one. */
  passive?: boolean;
  throwErrors?: boolean;
}

/** A request in progress, as `Operations.pendingRequests()` lists it. */
export interface PendingRequest {
  readonly what: string;
  readonly endpoint: string;
  readonly path: string;
  readonly started: number;
  /** Whether its progress notification (with the Cancel button) is showing. */
  progressShown: boolean;
  cancel(): void;
}

type Level = ClientsTreeNode['kind'];
const LEVELS: readonly Level[] = ['client', 'object', 'instance', 'resource', 'resourceInstance'];

/** Resolves the first argument of a command: a tree node, a Target, an endpoint name, or nothing (then asks). */
function asTarget(arg: unknown): Target | undefined {
  if (typeof arg === 'object' && arg !== null && 'endpoint' in arg) {
    const a = arg as { endpoint: unknown; path?: unknown; observation?: { path: Lwm2mPath } };
    if (typeof a.endpoint !== 'string') return undefined;
    if (typeof a.path === 'string') return { endpoint: a.endpoint, path: a.path };
    if (a.observation) return { endpoint: a.endpoint, path: a.observation.path.toString() };
    return { endpoint: a.endpoint, path: '/' };
  }
  return undefined;
}

/** The device-management operations behind the commands, with prompts when not given arguments. */
export class Operations {
  /** The last failure shown to the user (for tests). */
  lastError: string | undefined;
  /** The last request the user cancelled (for tests). */
  lastCancelled: string | undefined;
  private readonly pending = new Set<PendingRequest>();

  constructor(
    private readonly controller: ServerController,
    private readonly tree: ClientsTreeProvider,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  register(context: vscode.ExtensionContext): void {
    const reg = (id: string, fn: (...args: never[]) => unknown) =>
      context.subscriptions.push(
        vscode.commands.registerCommand(id, async (...args: unknown[]) => {
          try {
            return await (fn as (...a: unknown[]) => unknown).apply(this, args);
          } catch (err) {
            if (err instanceof Cancelled) return undefined;
            const message = describeError(err);
            this.lastError = message;
            this.log.error(message);
            void vscode.window.showErrorMessage(message, 'Show Traffic Log', 'Show Log').then((choice) => {
              if (choice === 'Show Log') this.log.show();
              if (choice === 'Show Traffic Log') void vscode.commands.executeCommand(Commands.showTrafficLog);
            });
            if ((args[1] as { throwErrors?: boolean } | undefined)?.throwErrors) throw err;
            return undefined;
          }
        }),
      );
    reg(Commands.read, this.read);
    reg(Commands.readWithOptions, this.readWithOptions);
    reg(Commands.discover, this.discover);
    reg(Commands.write, (a: unknown, o?: WriteArgs) => this.write(a, o, 'replace'));
    reg(Commands.writeUpdate, (a: unknown, o?: WriteArgs) => this.write(a, o, 'update'));
    reg(Commands.writeAttributes, this.writeAttributes);
    reg(Commands.execute, this.execute);
    reg(Commands.create, this.create);
    reg(Commands.delete, this.delete);
    reg(Commands.observe, this.observe);
    reg(Commands.cancelObservation, this.cancelObservation);
    reg(Commands.readComposite, this.readComposite);
    reg(Commands.writeComposite, this.writeComposite);
    reg(Commands.observeComposite, this.observeComposite);
    reg(Commands.setClientDefaults, this.setClientDefaults);
    reg(Commands.showQueue, this.showQueue);
    reg(Commands.forgetClient, (a: unknown) => {
      const t = asTarget(a);
      if (t) this.controller.store.forget(t.endpoint);
    });
    reg(Commands.copyPath, async (a: unknown) => {
      const t = asTarget(a);
      if (t) await vscode.env.clipboard.writeText(t.path);
    });
  }

  // ----- operations ------------------------------------------------------------------------------

  async read(arg?: unknown, opts: RequestOptions | ClientsTreeNode[] = {}): Promise<ReadResponse> {
    const t = await this.target(arg, 'Read', ['object', 'instance', 'resource', 'resourceInstance']);
    const o = options(opts);
    const server = this.controller.requireServer();
    const res = await this.run('Read', t, (signal) => server.read(t.endpoint, t.path, { ...this.requestOptions(t, o), signal }));
    this.controller.store.setValues(t.endpoint, res.records, 'read');
    const single = res.records.length === 1 ? res.records[0]! : undefined;
    this.done(`Read ${t.path}: ${single ? showValue(single.type, single.value) : `${res.records.length} values`} (${res.code}, ${formatName(res.format ?? 0)}, ${res.rtt} ms)`);
    if (res.notes.length) this.log.info(`read ${t.path} on ${t.endpoint}: ${res.notes.join('; ')}`);
    return res;
  }

  /** Read with a content format and timeout chosen for this request. */
  async readWithOptions(arg?: unknown, opts?: RequestOptions): Promise<ReadResponse> {
    const t = await this.target(arg, 'Read with Options', ['object', 'instance', 'resource', 'resourceInstance']);
    const o = opts && !Array.isArray(opts) && (opts.format !== undefined || opts.timeoutMs !== undefined) ? opts : await this.askRequestOptions(t);
    return this.read(t, o);
  }

  async discover(arg?: unknown, opts: RequestOptions | ClientsTreeNode[] = {}): Promise<DiscoverResponse> {
    const t = await this.target(arg, 'Discover', ['object', 'instance', 'resource']);
    const o = options(opts);
    const server = this.controller.requireServer();
    const res = await this.run('Discover', t, (signal) => server.discover(t.endpoint, t.path, { timeoutMs: o.timeoutMs ?? this.timeout(t), signal }));
    for (const link of res.links) this.controller.store.setAttributes(t.endpoint, link.path.toString(), link.attributes);
    const text = res.links.map((l) => `<${l.path.toString()}>${attrText(l.attributes)}`).join(', ');
    this.log.info(`discover ${t.path} on ${t.endpoint}: ${text}${res.problems.length ? ` (problems: ${res.problems.join('; ')})` : ''}`);
    void vscode.window.showInformationMessage(`Discover ${t.path} on ${t.endpoint}: ${res.links.length} link${res.links.length === 1 ? '' : 's'} — ${text.length > 300 ? text.slice(0, 300) + '…' : text}`);
    return res;
  }

  async write(arg: unknown, opts: WriteArgs | ClientsTreeNode[] = {}, mode: 'replace' | 'update' = 'replace'): Promise<Lwm2mResponse> {
    const t = await this.target(arg, mode === 'update' ? 'Write (partial update)' : 'Write', ['resource', 'resourceInstance'], 'writable');
    const o: WriteArgs = Array.isArray(opts) ? {} : opts;
    const client = this.client(t.endpoint);
    const path = Lwm2mPath.parse(t.path);
    const model = this.tree.resourceModel(client, path.objectId!, path.resourceId!);
    const known = client.values.get(t.path);
    const type: ValueType = o.type ?? model?.type ?? known?.type ?? 'string';
    if (type === 'none') throw new Error(`${t.path} is executable: it has no value to write`);
    let value: Value;
    if (o.value === undefined) {
      const v = await askValue(`Write ${model?.name ?? t.path} (${t.path}) on ${t.endpoint}`, type, model, known?.value);
      if (v === undefined) throw new Cancelled();
      value = v;
    } else value = typedValue(type, o.value, model, t.path);
    const record: Lwm2mRecord = { path, type, value };
    const server = this.controller.requireServer();
    // A partial update goes to the instance (POST /O/I) with the one resource.
    const at = mode === 'update' ? path.parent().length >= 2 ? new Lwm2mPath(path.ids.slice(0, 2)) : path : path;
    const res = await this.run(mode === 'update' ? 'Write (update)' : 'Write', t, (signal) =>
      server.write(t.endpoint, at, [record], { mode, ...this.requestOptions({ endpoint: t.endpoint, path: at.toString() }, o), signal }),
    );
    this.controller.store.setValues(t.endpoint, [record], 'write');
    this.done(`Wrote ${t.path} = ${showValue(type, value)} (${res.code}, ${res.rtt} ms)`);
    return res;
  }

  async writeAttributes(arg?: unknown, opts: AttributesArgs | ClientsTreeNode[] = {}): Promise<Lwm2mResponse> {
    const t = await this.target(arg, 'Write-Attributes', ['object', 'instance', 'resource', 'resourceInstance']);
    const o: AttributesArgs = Array.isArray(opts) ? {} : opts;
    const server = this.controller.requireServer();
    let update: AttributeUpdate;
    if (o.attributes !== undefined) update = parseAttributes(o.attributes);
    else {
      // The form starts from what the client reports now.
      let current: Lwm2mAttributes = {};
      try {
        const d = await this.run('Discover', t, (signal) => server.discover(t.endpoint, t.path, { timeoutMs: this.timeout(t), signal }));
        current = d.links.find((l) => l.path.toString() === t.path)?.attributes ?? {};
        for (const link of d.links) this.controller.store.setAttributes(t.endpoint, link.path.toString(), link.attributes);
      } catch (err) {
        this.log.warn(`discover before write-attributes: ${describeError(err)}`);
      }
      const u = await attributesForm(`Write-Attributes ${t.path} on ${t.endpoint}`, current);
      if (!u) throw new Cancelled();
      update = u;
    }
    const res = await this.run('Write-Attributes', t, (signal) => server.writeAttributes(t.endpoint, t.path, update, { timeoutMs: o.timeoutMs ?? this.timeout(t), signal }));
    this.controller.store.setAttributes(t.endpoint, t.path, update as Lwm2mAttributes, true);
    this.done(`Wrote attributes of ${t.path}: ${attrText(update as Lwm2mAttributes) || '(unset)'} (${res.code})`);
    return res;
  }

  async execute(arg?: unknown, opts: ExecuteArgs | ClientsTreeNode[] = {}): Promise<Lwm2mResponse> {
    const t = await this.target(arg, 'Execute', ['resource'], 'executable');
    const o: ExecuteArgs = Array.isArray(opts) ? {} : opts;
    let args = o.args;
    if (args === undefined) {
      const client = this.client(t.endpoint);
      const p = Lwm2mPath.parse(t.path);
      const model = this.tree.resourceModel(client, p.objectId!, p.resourceId!);
      args = await vscode.window.showInputBox({
        title: `Execute ${model?.name ?? t.path} (${t.path}) on ${t.endpoint}`,
        prompt: "Arguments (optional), e.g. 0,1='https://example.com' — leave empty for none",
        validateInput: (v) => {
          try {
            parseExecuteArguments(v.trim());
            return undefined;
          } catch (err) {
            return (err as Error).message;
          }
        },
      });
      if (args === undefined) throw new Cancelled();
      args = args.trim();
    }
    const server = this.controller.requireServer();
    const res = await this.run('Execute', t, (signal) => server.execute(t.endpoint, t.path, args, { timeoutMs: o.timeoutMs ?? this.timeout(t), signal }));
    this.done(`Executed ${t.path}${args ? ` with ${args}` : ''} (${res.code}, ${res.rtt} ms)`);
    return res;
  }

  async create(arg?: unknown, opts: CreateArgs | ClientsTreeNode[] = {}): Promise<CreateResponse> {
    const t = await this.target(arg, 'Create', ['object']);
    const o: CreateArgs = Array.isArray(opts) ? {} : opts;
    const client = this.client(t.endpoint);
    const objectId = Lwm2mPath.parse(t.path).objectId!;
    const model = this.tree.objectModel(client, objectId);
    let instanceId = o.instanceId;
    const values: Record<number, Value | string> = { ...(o.values ?? {}) };
    if (o.instanceId === undefined && o.values === undefined) {
      const used = new Set(client.registration.objects.find((x) => x.id === objectId)?.instances ?? []);
      let free = 0;
      while (used.has(free)) free++;
      const text = await vscode.window.showInputBox({
        title: `Create an instance of ${model?.name ?? `object ${objectId}`} on ${t.endpoint}`,
        prompt: 'Instance id of the new instance',
        value: String(free),
        validateInput: (v) => (/^\d{1,5}$/.test(v.trim()) && Number(v) < 65535 ? undefined : 'An instance id 0..65534'),
      });
      if (text === undefined) throw new Cancelled();
      instanceId = Number(text.trim());
      // Ask for the mandatory writable resources; the others can be written afterwards.
      for (const r of model?.resources ?? []) {
        if (!r.mandatory || !r.operations.includes('W') || r.multiple) continue;
        const v = await askValue(`Create ${t.path}/${instanceId}: ${r.name} (${r.id})`, r.type, r, undefined);
        if (v === undefined) throw new Cancelled();
        values[r.id] = v;
      }
    }
    if (instanceId === undefined) instanceId = 0;
    const records: Lwm2mRecord[] = Object.entries(values).map(([rid, v]) => {
      const r = model?.resources.find((x) => x.id === Number(rid));
      const type = r?.type ?? (typeof v === 'number' ? 'integer' : 'string');
      return { path: Lwm2mPath.of(objectId, instanceId, Number(rid)), type, value: typedValue(type, v, r, `${t.path}/${instanceId}/${rid}`) };
    });
    const server = this.controller.requireServer();
    const res = await this.run('Create', t, (signal) =>
      records.length > 0
        ? server.create(t.endpoint, t.path, records, { ...this.requestOptions({ endpoint: t.endpoint, path: `${t.path}/${instanceId}` }, o), signal })
        : server.create(t.endpoint, t.path, [], { clientAssignsId: true, format: 11542, timeoutMs: o.timeoutMs ?? this.timeout(t), signal }),
    );
    this.controller.store.setValues(t.endpoint, records, 'write');
    this.done(`Created ${res.location ?? `${t.path}/${res.instanceId ?? instanceId}`} (${res.code})`);
    return res;
  }

  async delete(arg?: unknown, opts: (RequestOptions & { confirm?: boolean }) | ClientsTreeNode[] = {}): Promise<Lwm2mResponse> {
    const t = await this.target(arg, 'Delete', ['instance']);
    const o = Array.isArray(opts) ? {} : opts;
    if (o.confirm !== false) {
      const yes = await vscode.window.showWarningMessage(`Delete ${t.path} on ${t.endpoint}?`, { modal: true }, 'Delete');
      if (yes !== 'Delete') throw new Cancelled();
    }
    const server = this.controller.requireServer();
    const res = await this.run('Delete', t, (signal) => server.delete(t.endpoint, t.path, { timeoutMs: o.timeoutMs ?? this.timeout(t), signal }));
    this.controller.store.dropValues(t.endpoint, Lwm2mPath.parse(t.path));
    this.done(`Deleted ${t.path} (${res.code})`);
    return res;
  }

  async observe(arg?: unknown, opts: ObserveArgs | ClientsTreeNode[] = {}): Promise<ObserveResponse> {
    const t = await this.target(arg, 'Observe', ['object', 'instance', 'resource', 'resourceInstance']);
    const o: ObserveArgs = Array.isArray(opts) ? {} : opts;
    const server = this.controller.requireServer();
    const res = await this.run('Observe', t, (signal) =>
      server.observe(t.endpoint, t.path, { ...this.requestOptions(t, o), ...(o.attributes ? { attributes: o.attributes } : {}), signal }),
    );
    this.controller.store.setValues(t.endpoint, res.records, 'read');
    if (res.observation) this.controller.store.addObservation(t.endpoint, res.observation, o.attributes);
    this.done(res.observation ? `Observing ${t.path} on ${t.endpoint} (${res.code})` : `${t.path} answered without starting an observation (${res.code})`);
    if (!res.observation) void vscode.window.showWarningMessage(`${t.endpoint} answered the Observe of ${t.path} with a plain ${res.code}: it does not notify changes of it.`);
    return res;
  }

  async cancelObservation(arg?: unknown, opts: CancelArgs | ClientsTreeNode[] = {}): Promise<number> {
    const o: CancelArgs = Array.isArray(opts) ? {} : opts;
    const a = arg as { observation?: { id: string } } | undefined;
    let t = asTarget(arg);
    let id = o.id ?? a?.observation?.id;
    if (!t) {
      const picks = this.controller.store.list().flatMap((c) =>
        [...c.observations.values()].map((x) => ({
          label: x.observation.composite ? x.observation.paths.map((p) => p.toString()).join(', ') : x.observation.path.toString(),
          description: c.endpoint,
          detail: `${x.notifications} notification(s)`,
          target: { endpoint: c.endpoint, path: x.observation.path.toString() },
          id: x.observation.id,
        })),
      );
      if (picks.length === 0) {
        void vscode.window.showInformationMessage('No active observations.');
        return 0;
      }
      const pick = await vscode.window.showQuickPick(picks, { title: 'Cancel Observation', placeHolder: 'Observation to cancel' });
      if (!pick) throw new Cancelled();
      t = pick.target;
      id = pick.id;
    }
    const target = t;
    const server = this.controller.requireServer();
    let n: number;
    try {
      n = await server.cancelObservation(target.endpoint, id ?? target.path, { active: !o.passive, timeoutMs: this.timeout(target) });
    } catch (err) {
      // The client did not answer the active cancel: forget the observation anyway.
      this.log.warn(`active cancel of ${target.path} on ${target.endpoint} failed (${describeError(err)}); cancelling passively`);
      n = await server.cancelObservation(target.endpoint, id ?? target.path);
    }
    this.done(n ? `Cancelled the observation of ${target.path} on ${target.endpoint}` : `No observation of ${target.path} on ${target.endpoint}`);
    return n;
  }

  async readComposite(arg?: unknown, opts: CompositeArgs | ClientsTreeNode[] = {}): Promise<ReadResponse> {
    const { endpoint, paths, o } = await this.compositeTarget(arg, opts, 'Read-Composite');
    const server = this.controller.requireServer();
    const t = { endpoint, path: '/' };
    const res = await this.run('Read-Composite', t, (signal) => server.readComposite(endpoint, paths, { ...(o.format !== undefined ? { format: fmt(o.format) } : {}), timeoutMs: o.timeoutMs ?? this.timeout(t), signal }));
    this.controller.store.setValues(endpoint, res.records, 'composite');
    this.done(`Read-Composite ${paths.join(', ')}: ${res.records.length} values (${res.code})`);
    return res;
  }

  async observeComposite(arg?: unknown, opts: CompositeArgs | ClientsTreeNode[] = {}): Promise<ObserveResponse> {
    const { endpoint, paths, o } = await this.compositeTarget(arg, opts, 'Observe-Composite');
    const server = this.controller.requireServer();
    const t = { endpoint, path: '/' };
    const res = await this.run('Observe-Composite', t, (signal) => server.observeComposite(endpoint, paths, { ...(o.format !== undefined ? { format: fmt(o.format) } : {}), timeoutMs: o.timeoutMs ?? this.timeout(t), signal }));
    this.controller.store.setValues(endpoint, res.records, 'composite');
    if (res.observation) this.controller.store.addObservation(endpoint, res.observation);
    this.done(`Observe-Composite ${paths.join(', ')} (${res.code})`);
    return res;
  }

  async writeComposite(arg?: unknown, opts: CompositeArgs | ClientsTreeNode[] = {}): Promise<Lwm2mResponse> {
    const o: CompositeArgs = Array.isArray(opts) ? {} : opts;
    let endpoint: string;
    let entries: [string, Value | string][];
    if (o.values) {
      endpoint = asTarget(arg)?.endpoint ?? (await this.pickClient('Write-Composite')).endpoint;
      entries = Object.entries(o.values);
    } else {
      const chosen = await this.compositeTarget(arg, opts, 'Write-Composite', 'writable');
      endpoint = chosen.endpoint;
      entries = [];
      const client = this.client(endpoint);
      for (const p of chosen.paths) {
        const path = Lwm2mPath.parse(p);
        const model = path.resourceId !== undefined ? this.tree.resourceModel(client, path.objectId!, path.resourceId) : undefined;
        const v = await askValue(`Write-Composite: ${model?.name ?? p} (${p})`, model?.type ?? client.values.get(p)?.type ?? 'string', model, client.values.get(p)?.value);
        if (v === undefined) throw new Cancelled();
        entries.push([p, v]);
      }
    }
    const client = this.client(endpoint);
    const records: Lwm2mRecord[] = entries.map(([p, v]) => {
      const path = Lwm2mPath.parse(p);
      if (path.resourceId === undefined) throw new Error(`Write-Composite writes resources: ${p} is not a resource path`);
      const model = this.tree.resourceModel(client, path.objectId!, path.resourceId);
      const type = model?.type ?? client.values.get(p)?.type ?? 'string';
      return { path, type, value: typedValue(type, v, model, p) };
    });
    const server = this.controller.requireServer();
    const t = { endpoint, path: '/' };
    const res = await this.run('Write-Composite', t, (signal) => server.writeComposite(endpoint, records, { ...(o.format !== undefined ? { format: fmt(o.format) } : {}), timeoutMs: o.timeoutMs ?? this.timeout(t), signal }));
    this.controller.store.setValues(endpoint, records, 'write');
    this.done(`Write-Composite of ${records.length} value(s) (${res.code})`);
    return res;
  }

  /** Per-client defaults: content format and timeout for requests to this client. */
  async setClientDefaults(arg?: unknown, opts?: { format?: number | string | null; timeoutMs?: number | null }): Promise<ClientInfo['defaults']> {
    const endpoint = asTarget(arg)?.endpoint ?? (await this.pickClient('Set Request Defaults')).endpoint;
    const client = this.client(endpoint);
    const server = this.controller.requireServer();
    let format: number | undefined;
    let timeoutMs: number | undefined;
    if (opts) {
      format = opts.format === null || opts.format === undefined ? undefined : fmt(opts.format);
      timeoutMs = opts.timeoutMs ?? undefined;
    } else {
      const picked = await pickFormat(`Default content format for ${endpoint}`, client.defaults.format, server.defaultFormat(endpoint));
      if (picked === null) throw new Cancelled();
      format = picked;
      const text = await vscode.window.showInputBox({
        title: `Request timeout for ${endpoint}`,
        prompt: `Seconds (empty: the setting lwm2m.requests.timeout, ${readSettings().requestTimeoutMs / 1000} s)`,
        value: client.defaults.timeoutMs ? String(client.defaults.timeoutMs / 1000) : '',
        validateInput: (v) => (v.trim() === '' || (/^\d+(\.\d+)?$/.test(v.trim()) && Number(v) > 0) ? undefined : 'A number of seconds'),
      });
      if (text === undefined) throw new Cancelled();
      timeoutMs = text.trim() ? Math.round(Number(text) * 1000) : undefined;
    }
    client.defaults = { ...(format !== undefined ? { format } : {}), ...(timeoutMs !== undefined ? { timeoutMs } : {}) };
    server.setDefaultFormat(endpoint, format);
    this.done(`Defaults for ${endpoint}: ${format !== undefined ? formatName(format) : 'client-preferred format'}, ${timeoutMs !== undefined ? `${timeoutMs / 1000} s` : 'default timeout'}`);
    return client.defaults;
  }

  /** The requests of a client waiting in its queue (queue mode); picking one cancels it. */
  async showQueue(arg?: unknown): Promise<void> {
    const endpoint = asTarget(arg)?.endpoint ?? (await this.pickClient('Queued Requests')).endpoint;
    const server = this.controller.requireServer();
    const queued = server.queuedRequests(endpoint);
    if (queued.length === 0) {
      void vscode.window.showInformationMessage(`No requests are waiting for ${endpoint}.`);
      return;
    }
    const pick = await vscode.window.showQuickPick(
      queued.map((q) => ({ label: `${q.operation} ${q.path}`, description: q.state, detail: `queued ${new Date(q.enqueuedAt).toLocaleTimeString()}`, q })),
      { title: `Requests queued for ${endpoint}`, placeHolder: 'Pick a waiting request to cancel it' },
    );
    if (pick && pick.q.state === 'waiting') server.cancelQueuedRequest(endpoint, pick.q.id);
  }

  // ----- plumbing --------------------------------------------------------------------------------

  private client(endpoint: string): ClientInfo {
    const c = this.controller.store.get(endpoint);
    if (!c) throw new Error(`No registered client "${endpoint}".`);
    return c;
  }

  /** The client's default timeout, else the setting (read per request, so a change applies at once). */
  private timeout(t: Target): number {
    return this.controller.store.get(t.endpoint)?.defaults.timeoutMs ?? readSettings().requestTimeoutMs;
  }

  /** Format and timeout of a request: per request, else per client, else the settings (single/multi-value), else the client's own. */
  private requestOptions(t: Target, o: RequestOptions): { format?: number; timeoutMs?: number } {
    const out: { format?: number; timeoutMs?: number } = {};
    out.timeoutMs = o.timeoutMs ?? this.timeout(t);
    let format = o.format !== undefined ? fmt(o.format) : this.controller.store.get(t.endpoint)?.defaults.format;
    if (format === undefined) {
      const settings = readSettings();
      format = this.isSingleValue(t) ? settings.singleValueFormat : settings.multiValueFormat;
    }
    if (format !== undefined) out.format = format;
    return out;
  }

  private isSingleValue(t: Target): boolean {
    const p = Lwm2mPath.parse(t.path);
    if (p.length === 4) return true;
    if (p.length !== 3) return false;
    const c = this.controller.store.get(t.endpoint);
    const model = c ? this.tree.resourceModel(c, p.objectId!, p.resourceId!) : undefined;
    return model ? !model.multiple : true;
  }

  /**
   * Runs a request, with a progress notification when it takes longer than a moment. The
   * notification's Cancel button aborts the request (it leaves the client's queue, or stops
   * retransmitting once sent); so does `cancelPending`.
   */
  private async run<T>(what: string, t: Target, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const started = Date.now();
    this.log.info(`${what.toLowerCase()} ${t.path} on ${t.endpoint}`);
    const abort = new AbortController();
    const entry: PendingRequest = { what, endpoint: t.endpoint, path: t.path, started, progressShown: false, cancel: () => abort.abort() };
    this.pending.add(entry);
    const promise = fn(abort.signal);
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      const sleeping = this.controller.store.get(t.endpoint)?.status === 'sleeping';
      entry.progressShown = true;
      void vscode.window.withProgress(
        {
          location: vscode.ProgressLocation.Notification,
          title: `${what} ${t.path} on ${t.endpoint}${sleeping ? ' (queued until the client wakes up)' : ''}…`,
          cancellable: true,
        },
        (_progress, token) => {
          const sub = token.onCancellationRequested(() => entry.cancel());
          return promise.then(
            () => sub.dispose(),
            () => sub.dispose(),
          );
        },
      );
    }, 800);
    try {
      const r = await promise;
      this.log.info(`${what.toLowerCase()} ${t.path} on ${t.endpoint}: done in ${Date.now() - started} ms`);
      return r;
    } catch (err) {
      if (abort.signal.aborted && (err instanceof RequestAbortedError || err instanceof RequestCancelledError)) {
        const message = `${what} ${t.path} on ${t.endpoint} cancelled after ${Date.now() - started} ms`;
        this.lastCancelled = message;
        this.done(message, 'circle-slash');
        throw new Cancelled();
      }
      throw err;
    } finally {
      settled = true;
      clearTimeout(timer);
      this.pending.delete(entry);
    }
  }

  /** Requests in progress (oldest first), each with the cancel action of its progress notification. */
  pendingRequests(): readonly PendingRequest[] {
    return [...this.pending];
  }

  /** Cancels every request in progress (for one client when given); returns how many. */
  cancelPending(endpoint?: string): number {
    const hits = [...this.pending].filter((p) => endpoint === undefined || p.endpoint === endpoint);
    hits.forEach((p) => p.cancel());
    return hits.length;
  }

  private done(message: string, icon = 'check'): void {
    this.log.info(message);
    vscode.window.setStatusBarMessage(`$(${icon}) ${message}`, 5000);
  }

  private async askRequestOptions(t: Target): Promise<RequestOptions> {
    const server = this.controller.requireServer();
    const client = this.client(t.endpoint);
    const picked = await pickFormat(`Content format for this request (${t.path})`, client.defaults.format, server.defaultFormat(t.endpoint));
    if (picked === null) throw new Cancelled();
    const text = await vscode.window.showInputBox({
      title: 'Timeout for this request',
      prompt: 'Seconds (empty: the default)',
      validateInput: (v) => (v.trim() === '' || (/^\d+(\.\d+)?$/.test(v.trim()) && Number(v) > 0) ? undefined : 'A number of seconds'),
    });
    if (text === undefined) throw new Cancelled();
    return { ...(picked !== undefined ? { format: picked } : {}), ...(text.trim() ? { timeoutMs: Math.round(Number(text) * 1000) } : {}) };
  }

  /** The target of an operation: from the argument, else a client pick and a path pick. */
  private async target(arg: unknown, title: string, levels: readonly Level[], need?: 'writable' | 'executable'): Promise<Target> {
    const given = asTarget(arg);
    if (given && levels.includes(LEVELS[given.path === '/' ? 0 : Lwm2mPath.parse(given.path).length]!)) return given;
    const client = given ? this.client(given.endpoint) : await this.pickClient(title);
    const path = await this.pickPath(client, title, levels, need, given?.path);
    return { endpoint: client.endpoint, path };
  }

  async pickClient(title: string): Promise<ClientInfo> {
    const clients = this.controller.store.list().filter((c) => c.status !== 'expired');
    if (clients.length === 0) throw new Error(this.controller.server ? 'No LwM2M client is registered yet.' : 'The LwM2M server is not running. Start it with "LwM2M: Start Server".');
    if (clients.length === 1) return clients[0]!;
    const pick = await vscode.window.showQuickPick(
      clients.map((c) => ({ label: c.endpoint, description: `LwM2M ${c.registration.lwm2mVersion} · ${c.status}`, client: c })),
      { title: `${title}: client`, placeHolder: 'Endpoint name', matchOnDescription: true },
    );
    if (!pick) throw new Cancelled();
    return pick.client;
  }

  /** A quick pick of the client's paths (objects, instances, resources with names); a typed path is accepted too. */
  private pickPath(client: ClientInfo, title: string, levels: readonly Level[], need: 'writable' | 'executable' | undefined, under?: string): Promise<string> {
    const items: (vscode.QuickPickItem & { path: string })[] = [];
    const add = (path: string, label: string, level: Level, model?: ResourceModel) => {
      if (!levels.includes(level)) return;
      if (under && under !== '/' && !(path === under || path.startsWith(under + '/'))) return;
      if (need === 'writable' && model && !model.operations.includes('W')) return;
      if (need === 'executable' && (!model || model.operations !== 'E')) return;
      const known = client.values.get(path);
      items.push({ label: path, description: label, detail: known ? showValue(known.type, known.value, model?.units) : undefined, path });
    };
    for (const o of client.registration.objects) {
      const model = this.tree.objectModel(client, o.id);
      add(`/${o.id}`, model?.name ?? `object ${o.id}`, 'object');
      for (const i of o.instances) {
        add(`/${o.id}/${i}`, `${model?.name ?? `object ${o.id}`} instance ${i}`, 'instance');
        for (const r of model?.resources ?? []) add(`/${o.id}/${i}/${r.id}`, `${r.name} · ${r.type} · ${r.operations || '-'}`, 'resource', r);
      }
    }
    for (const [path] of client.values) if (!items.some((i) => i.path === path)) add(path, '', Lwm2mPath.parse(path).length === 4 ? 'resourceInstance' : 'resource');
    return new Promise((resolve, reject) => {
      const qp = vscode.window.createQuickPick<vscode.QuickPickItem & { path: string }>();
      qp.title = `${title} on ${client.endpoint}: path`;
      qp.placeholder = 'Pick a path or type one (e.g. /3/0/0)';
      qp.matchOnDescription = true;
      qp.items = items;
      let typed: (vscode.QuickPickItem & { path: string }) | undefined;
      qp.onDidChangeValue((v) => {
        let p: Lwm2mPath | undefined;
        try {
          p = v.trim().startsWith('/') ? Lwm2mPath.parse(v) : undefined;
        } catch {
          p = undefined;
        }
        const text = p?.toString();
        if (p && text && levels.includes(LEVELS[p.length]!) && !items.some((i) => i.path === text)) {
          typed = { label: text, description: 'typed path', path: text, alwaysShow: true };
          qp.items = [typed, ...items];
        } else if (typed) {
          typed = undefined;
          qp.items = items;
        }
      });
      let accepted = false;
      qp.onDidAccept(() => {
        const item = qp.selectedItems[0];
        if (!item) return;
        accepted = true;
        qp.hide();
        resolve(item.path);
      });
      qp.onDidHide(() => {
        qp.dispose();
        if (!accepted) reject(new Cancelled());
      });
      qp.show();
    });
  }

  private async compositeTarget(arg: unknown, opts: CompositeArgs | ClientsTreeNode[], title: string, need?: 'writable'): Promise<{ endpoint: string; paths: string[]; o: CompositeArgs }> {
    const o: CompositeArgs = Array.isArray(opts) ? {} : opts;
    // Several nodes selected in the tree: their paths.
    if (Array.isArray(opts) && opts.length > 1) {
      const endpoint = opts[0]!.endpoint;
      const paths = opts.filter((n) => n.endpoint === endpoint && n.kind !== 'client').map((n) => n.path);
      if (paths.length) return { endpoint, paths, o };
    }
    const t = asTarget(arg);
    const client = t ? this.client(t.endpoint) : await this.pickClient(title);
    if (o.paths?.length) return { endpoint: client.endpoint, paths: o.paths, o };
    if (t && t.path !== '/' && !need) return { endpoint: client.endpoint, paths: [t.path], o };
    const items: (vscode.QuickPickItem & { path: string })[] = [];
    for (const ob of client.registration.objects) {
      const model = this.tree.objectModel(client, ob.id);
      if (!need) items.push({ label: `/${ob.id}`, description: model?.name, path: `/${ob.id}` });
      for (const i of ob.instances) {
        if (!need) items.push({ label: `/${ob.id}/${i}`, description: `${model?.name ?? ''} instance ${i}`, path: `/${ob.id}/${i}` });
        for (const r of model?.resources ?? []) {
          if (need === 'writable' && (!r.operations.includes('W') || r.multiple)) continue;
          if (!need && !r.operations.includes('R')) continue;
          items.push({ label: `/${ob.id}/${i}/${r.id}`, description: r.name, path: `/${ob.id}/${i}/${r.id}` });
        }
      }
    }
    const picks = await vscode.window.showQuickPick(items, { title: `${title} on ${client.endpoint}`, placeHolder: 'Pick the paths', canPickMany: true, matchOnDescription: true });
    if (!picks || picks.length === 0) throw new Cancelled();
    return { endpoint: client.endpoint, paths: picks.map((p) => p.path), o };
  }
}

/** A prompt was dismissed: not an error. */
export class Cancelled extends Error {
  override readonly name = 'Cancelled';
}

function options(opts: RequestOptions | ClientsTreeNode[]): RequestOptions {
  return Array.isArray(opts) ? {} : opts;
}

function fmt(f: number | string): number {
  if (typeof f === 'number') return f;
  const n = parseFormat(f);
  if (n === undefined) throw new Error(`Unknown content format "${f}" (use ${FORMATS.map((x) => x.name).join(', ')} or a number)`);
  return n;
}

function typedValue(type: ValueType, v: Value | string, model: ResourceModel | undefined, path: string): Value {
  if (typeof v !== 'string' || type === 'string' || type === 'corelnk') {
    if (typeof v === 'string' && model) {
      const r = parseValue(type, v, model);
      if (!r.ok) throw new Error(`${path}: ${JSON.stringify(v)} is not ${r.error}`);
    }
    return v;
  }
  const r = parseValue(type, v, model);
  if (!r.ok) throw new Error(`${path}: ${JSON.stringify(v)} is not ${r.error}`);
  return r.value;
}

function attrText(a: Lwm2mAttributes): string {
  return Object.entries(a)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => (v === null ? `;${k}` : `;${k}=${String(v)}`))
    .join('');
}

/** null: cancelled; undefined: the client's own choice. */
async function pickFormat(title: string, current: number | undefined, clientDefault: number | undefined): Promise<number | undefined | null> {
  const items = [
    { label: 'Client default', description: clientDefault !== undefined ? `${formatName(clientDefault)} (from its version and ct)` : '', format: undefined as number | undefined },
    ...FORMATS.filter((f) => f.number !== 40).map((f) => ({ label: f.name, description: `${f.number} · ${f.mediaType}${current === f.number ? ' · current' : ''}`, format: f.number as number | undefined })),
  ];
  const pick = await vscode.window.showQuickPick(items, { title, placeHolder: 'Content format' });
  return pick ? pick.format : null;
}

const ATTRIBUTE_HELP: Record<AttributeName, string> = {
  pmin: 'minimum period (s)',
  pmax: 'maximum period (s)',
  gt: 'greater than (notify when crossing)',
  lt: 'less than (notify when crossing)',
  st: 'step (notify on a change of at least)',
  epmin: 'minimum evaluation period (s)',
  epmax: 'maximum evaluation period (s)',
  edge: 'edge (0 falling, 1 rising; boolean resources)',
  con: 'confirmable notifications (0/1)',
  hqmax: 'maximum historical queue',
};

/**
 * The Write-Attributes form: one row per attribute with its current value (from Discover) and the
 * new one; pick a row to change it (empty unsets), then "Write". Undefined: cancelled.
 */
async function attributesForm(title: string, current: Lwm2mAttributes): Promise<AttributeUpdate | undefined> {
  const update: AttributeUpdate = {};
  for (;;) {
    const rows = WRITABLE_ATTRIBUTES.map((name) => {
      const now = (current as Record<string, unknown>)[name];
      const next = name in update ? update[name] : undefined;
      const change = name in update ? (next === null ? ' → unset' : ` → ${String(next)}`) : '';
      return { label: `${name}${now !== undefined ? ` = ${String(now)}` : ''}${change}`, description: ATTRIBUTE_HELP[name], name: name as AttributeName | 'write' };
    });
    const changes = Object.keys(update).length;
    const write = { label: `$(check) Write ${changes} change${changes === 1 ? '' : 's'}`, description: changes ? '' : 'pick attributes to change first', name: 'write' as const };
    const pick = await vscode.window.showQuickPick([write, ...rows], { title, placeHolder: 'Current attributes from Discover; pick one to change it' });
    if (!pick) return undefined;
    if (pick.name === 'write') {
      if (changes === 0) continue;
      return update;
    }
    const name = pick.name;
    const now = (current as Record<string, unknown>)[name];
    const text = await vscode.window.showInputBox({
      title: `${title}: ${name}`,
      prompt: `${ATTRIBUTE_HELP[name]} — empty to unset`,
      value: name in update ? (update[name] === null ? '' : String(update[name])) : now !== undefined ? String(now) : '',
      validateInput: (v) => {
        if (v.trim() === '') return undefined;
        try {
          parseAttributes(`${name}=${v.trim()}`);
          return undefined;
        } catch (err) {
          return (err as Error).message;
        }
      },
    });
    if (text === undefined) continue;
    update[name] = text.trim() === '' ? null : parseAttributes(`${name}=${text.trim()}`)[name]!;
    try {
      parseAttributes(update);
    } catch (err) {
      void vscode.window.showWarningMessage((err as Error).message);
    }
  }
}
