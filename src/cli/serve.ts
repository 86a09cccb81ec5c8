/**
 * `lwm2m-workbench serve`: the LwM2M server in a terminal or a CI job. Events go to standard
 * output as JSON lines; commands come from standard input, one per line, each answered with
 * exactly one JSON line. Ctrl-C (SIGINT/SIGTERM) stops at once; end of input stops once the
 * commands still running have answered.
 *
 * CoAPS: --psk / --credentials (or --dtls-port) add a DTLS 1.2 PSK port to the LwM2M server
 * (5684 by default) and, when the bootstrap server runs, to it as well (--bootstrap-dtls-port,
 * 5686 by default), with the same credentials and the same identity → endpoint binding (4.03
 * otherwise). A bootstrap configuration's PSK `security.keyRef` resolves to the key of the
 * credential whose `ref` (credentials file) or, failing that, identity equals it.
 *
 * OUTPUT SCHEMA (a product surface: keep it stable, only ever add fields or events)
 *
 * Every line is one JSON object, either an event (has "event") or a reply (has "command").
 * Times are ISO-8601 strings. Formats are names (`tlv`, `senml-json`, …; the number when it has
 * no name). Payloads are lowercase hex. Nodes are the JSON nodes of `decode` (src/core/json.ts:
 * {path, name?, type, value, time?, modelled?, readings?}).
 *
 * Events: {"event": NAME, "time": ISO, ...}
 *   listening          {address, port, family, securePort?}      always the first line; securePort: the
 *                      CoAPS (DTLS/PSK) port, when --dtls-port / --psk / --credentials turn it on
 *   registered         {endpoint, registration: REG}
 *   updated            {endpoint, registration: REG}
 *   deregistered       {endpoint, registrationId}
 *   expired            {endpoint, registrationId}
 *   replaced           {endpoint, previousId, registrationId}   (before its `registered`)
 *   notification       {endpoint, observation, path, code, format, sequence, nodes, payload, error?: ERR}
 *   observation-ended  {endpoint, observation, path, reason}     reason: cancelled | ended-by-peer | closed
 *   send               {endpoint, format, nodes, payload, error?: ERR}
 *   sleeping, awake    {endpoint}                                 queue-mode clients
 *   request-queued, request-expired  {endpoint, request: QUEUED}
 *   bootstrap          {step, ...}                                bootstrap server (--bootstrap-port / --bootstrap-config /
 *                      --bootstrap-dtls-port): step "listening" {address, port, family}; with CoAPS a second
 *                      step "listening" {secure: true, address, port, family} for its DTLS port; then per
 *                      session step (src/core/bootstrap BootstrapEvent): request (with security "NoSec" |
 *                      "PSK" and pskIdentity?), delete, discover, write, read, finish, done, failed, with
 *                      endpoint, at (ISO time of the step) and that step's fields (format as a name)
 *   traffic            {line, summary}                            with --traffic: one per CoAP message in or out;
 *                      line = the message, summary = its LwM2M meaning (`Read /3/0 accept tlv`)
 *   error              {source: "server" | "bootstrap" | "input", message}
 *   stopped            {}                                         always the last line
 *
 * Replies: {"command": LINE, "seq": N, "ok": true, "result": {...}}
 *      or  {"command": LINE, "seq": N, "ok": false, "error": ERR}
 *   LINE is the command line as read (trimmed); N counts the non-empty, non-comment lines from 1.
 *   Replies come when the operation completes, so they may come out of order (match by seq).
 *
 *   list                                           {registrations: [REG]}
 *   read EP PATH [--format F]                      {code, rtt, format, path, nodes, payload}
 *   discover EP PATH                               {code, rtt, links: [{path, attributes}], problems, payload}
 *   write EP PATH VALUE [--format F]               {code, rtt}     VALUE as in text/plain (opaque: base64)
 *   write EP PATH --json NODES [--replace|--update] [--format F]   {code, rtt}
 *   write-attributes EP PATH pmin=1&pmax=5         {code, rtt}     a bare name unsets (pmin)
 *   execute EP PATH [ARGS]                         {code, rtt}     ARGS: the rest of the line, e.g. 0,1='x'
 *   create EP PATH --json NODES [--format F] [--client-id]   {code, rtt, instanceId, location}
 *   delete EP PATH                                 {code, rtt}
 *   observe EP PATH [--format F]                   {code, rtt, format, path, nodes, payload, observation: OBS | null}
 *   observe-composite EP PATH... [--format F]      same as observe
 *   cancel EP PATH|ID [--active]                   {cancelled: N}
 *   read-composite EP PATH... [--format F]         {code, rtt, format, path, nodes, payload}
 *   write-composite EP --json NODES [--format F]   {code, rtt}
 *   observations EP                                {observations: [OBS]}
 *   queue EP                                       {requests: [QUEUED]}
 *   unqueue EP ID                                  {cancelled: true|false}
 *   help                                           {commands: [usage]}
 *   Every operation also takes --timeout MS. NODES is JSON (the document `decode` prints, or an
 *   array of nodes), unquoted or in quotes; other arguments may be quoted with ' or ".
 *
 * REG    {id, endpoint, address, lifetime, lwm2mVersion, binding, queueMode, sms?, rootPath,
 *         objects: [{id, version?, instances}], contentFormats, extraParams, registeredAt,
 *         lastUpdate, expiresAt, security: "NoSec" | "PSK", pskIdentity?}
 * OBS    {id, path, paths, composite, format}
 * QUEUED {id, operation, method, path, state, enqueuedAt, expiresAt}
 * ERR    {name, message, ...}: ResponseCodeError adds code, meaning, diagnostic;
 *        ResponseDecodeError adds code, format, payload, cause {name, message};
 *        UsageError (a malformed command), ClientNotFoundError, TimeoutError, QueueTimeoutError, …
 */

import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import { BootstrapServer, DEFAULT_BOOTSTRAP_PORT, DEFAULT_BOOTSTRAP_SECURE_PORT, loadBootstrapConfig, type KeyResolver } from '../core/bootstrap';
import { codecRegistry } from '../core/codec/registry';
import { ContentFormat, formatName } from '../core/contentFormat';
import { jsonToRecords, recordsToJson } from '../core/json';
import type { ModelRegistry } from '../core/model';
import type { Lwm2mRecord } from '../core/node';
import { Lwm2mPath } from '../core/path';
import { ResponseCodeError, ResponseDecodeError } from '../core/server/errors';
import { Lwm2mServer, type Lwm2mDtlsOptions, type PskCredential, type Lwm2mResponse, type QueuedRequestInfo, type ServerObservation } from '../core/server/lwm2mServer';
import { objectVersions, type Registration } from '../core/server/registration';
import { formatTrafficEntry, summarizeTrafficEntry } from '../core/server/traffic';
import { CliError, collect, formatOption, hexKey, loadModels, parsePskOption, type CliIo } from './common';

export { parsePskOption } from './common';

interface ServeOptions {
  port: string;
  bind?: string;
  bootstrapPort?: string;
  bootstrapConfig?: string;
  models: string[];
  traffic?: boolean;
  dtlsPort?: string;
  psk: string[];
  credentials?: string;
  bootstrapDtlsPort?: string;
}

/** A credential of --psk / --credentials; `ref`: the keyRef a bootstrap configuration may name it by. */
type CliCredential = PskCredential & { ref?: string };

/** A command line that cannot be run as written. */
class UsageError extends Error {
  override readonly name = 'UsageError';
}

type Json = Record<string, unknown>;

export function registerServe(program: Command, io: CliIo, input?: Readable): void {
  program
    .command('serve')
    .summary('run the LwM2M server: events as JSON lines, commands from stdin')
    .description(
      'Run the LwM2M server. Prints one JSON line per event (listening, registered, updated, deregistered, expired, ' +
        'notification, send, …) and reads commands from standard input, one per line, answering each with one JSON ' +
        'line that echoes it. Type "help" for the commands. Ctrl-C or end of input stops the server.',
    )
    .option('-p, --port <port>', 'UDP port for CoAP (0 = any free port)', '5683')
    .option('-b, --bind <address>', 'address to bind (default: dual-stack ::, else 0.0.0.0)')
    .option('--bootstrap-port <port>', 'also run the bootstrap server on this UDP port (5685 by convention)')
    .option('--bootstrap-config <file>', 'bootstrap configurations (JSON); starts the bootstrap server')
    .option('-m, --models <dir>', 'load DDF object models (*.xml) from this directory; repeatable', collect, [])
    .option('--traffic', 'print a traffic event for every CoAP message')
    .option('--dtls-port <port>', 'UDP port for CoAPS, DTLS 1.2 with PSK (default 5684 when credentials are given; off otherwise)')
    .option('--psk <identity:hexkey[@endpoint]>', 'a PSK credential for CoAPS; the endpoint defaults to the identity; repeatable', collect, [])
    .option('--credentials <file>', 'PSK credentials for CoAPS (JSON: [{"identity", "key" (hex), "endpoint"?, "ref"?}])')
    .option(
      '--bootstrap-dtls-port <port>',
      'UDP port for the bootstrap server over CoAPS with the same credentials (default 5686 when the bootstrap server runs and credentials are given)',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  lwm2m-workbench serve --port 5683\n  > read urn:dev:1 /3/0\n  > observe urn:dev:1 /3303/0/5700\n' +
        '  lwm2m-workbench serve --psk urn:dev:1:00112233445566778899aabbccddeeff   (CoAPS on 5684 too)\n' +
        '  lwm2m-workbench serve --dtls-port 5684 --psk id-1:0a0b0c@urn:dev:1 --credentials creds.json\n' +
        '  lwm2m-workbench serve --bootstrap-config bs.json --psk bs-1:0a0b0c@urn:dev:1 --psk dm-1:0d0e0f@urn:dev:1\n' +
        '    (bootstrap over CoAPS on 5686; a configuration\'s "keyRef": "dm-1" provisions the key of dm-1)',
    )
    .action(async (opts: ServeOptions) => {
      await serve(opts, io, input ?? process.stdin);
    });
}

function portOption(text: string, option: string): number {
  const n = Number(text);
  if (!/^\d{1,5}$/.test(text) || n > 65535) throw new CliError(`${option} ${JSON.stringify(text)} is not a port number (0-65535)`, 2);
  return n;
}

async function serve(opts: ServeOptions, io: CliIo, input: Readable): Promise<void> {
  const port = portOption(opts.port, '--port');
  const bootstrapPort = opts.bootstrapPort !== undefined ? portOption(opts.bootstrapPort, '--bootstrap-port') : undefined;
  if (opts.bootstrapDtlsPort !== undefined) portOption(opts.bootstrapDtlsPort, '--bootstrap-dtls-port');
  // Signals are caught from the start: a Ctrl-C right after `listening` still stops cleanly.
  let interrupted = false;
  let onInterrupt = (): void => {
    interrupted = true;
  };
  const signal = (): void => onInterrupt();
  process.on('SIGINT', signal);
  process.on('SIGTERM', signal);
  try {
    await run(opts, io, input, port, bootstrapPort, (stop) => {
      onInterrupt = stop;
      if (interrupted) stop();
    });
  } finally {
    process.off('SIGINT', signal);
    process.off('SIGTERM', signal);
  }
}

async function run(opts: ServeOptions, io: CliIo, input: Readable, port: number, bootstrapPort: number | undefined, onStopSignal: (stop: () => void) => void): Promise<void> {
  const models = await loadModels(opts.models, io);
  const print = (obj: Json) => io.stdout(JSON.stringify(obj) + '\n');
  const event = (name: string, fields: Json = {}) => print({ event: name, time: new Date().toISOString(), ...fields });

  const credentials = await loadAllCredentials(opts);
  const dtls = coapsOptions(opts.dtlsPort, '--dtls-port', 5684, opts, credentials);
  const server = new Lwm2mServer({ models, dtls });
  wireEvents(server, models, event, !!opts.traffic);
  try {
    await server.start({ port, address: opts.bind });
  } catch (err) {
    event('error', { source: 'server', message: (err as Error).message });
    throw new CliError((err as Error).message, 1);
  }
  const bound = server.address()!;
  const secure = server.secureAddress();
  event('listening', { address: bound.address, port: bound.port, family: bound.family, ...(secure ? { securePort: secure.port } : {}) });

  let bootstrap: BootstrapServer | undefined;
  if (bootstrapPort !== undefined || opts.bootstrapConfig !== undefined || opts.bootstrapDtlsPort !== undefined) {
    bootstrap = await startBootstrap(opts, bootstrapPort ?? DEFAULT_BOOTSTRAP_PORT, models, event, credentials);
  }

  const commands = new Commands(server, models);
  const running = new Set<Promise<void>>();
  let seq = 0;
  await new Promise<void>((resolve) => {
    let stopping = false;
    const lines = createInterface({ input, crlfDelay: Infinity });
    const finish = (): void => {
      if (stopping) return;
      stopping = true;
      lines.close();
      resolve();
    };
    onStopSignal(finish);
    lines.on('line', (raw) => {
      const line = raw.trim();
      if (line === '' || line.startsWith('#') || stopping) return;
      const n = ++seq;
      const task = commands.run(line).then(
        (result) => print({ command: line, seq: n, ok: true, result }),
        (err: unknown) => print({ command: line, seq: n, ok: false, error: errorJson(err) }),
      );
      running.add(task);
      void task.finally(() => running.delete(task));
    });
    // End of input: let the commands still running answer, then stop.
    lines.on('close', () => {
      if (stopping) return;
      void Promise.allSettled([...running]).then(finish);
    });
  });
  await Promise.all([server.stop(), bootstrap?.stop()]);
  // Replies of commands cut short by the stop (TransportClosedError) are printed before `stopped`.
  await Promise.allSettled([...running]);
  event('stopped');
}

/** `--credentials FILE`: [{identity, key (hex), endpoint?, ref?}]. */
async function loadCredentials(file: string): Promise<CliCredential[]> {
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new CliError(`--credentials ${file}: ${(err as Error).message}`, 2);
  }
  if (!Array.isArray(doc)) throw new CliError(`--credentials ${file}: expected a JSON array of {identity, key, endpoint?, ref?}`, 2);
  return doc.map((entry: unknown, i) => {
    const e = entry as Record<string, unknown>;
    const where = `--credentials ${file} [${i}]`;
    if (typeof e !== 'object' || e === null || typeof e.identity !== 'string' || e.identity === '' || typeof e.key !== 'string') {
      throw new CliError(`${where}: expected {identity: string, key: hex string, endpoint?: string, ref?: string}`, 2);
    }
    if (e.endpoint !== undefined && (typeof e.endpoint !== 'string' || e.endpoint === '')) throw new CliError(`${where}: endpoint must be a non-empty string`, 2);
    if (e.ref !== undefined && (typeof e.ref !== 'string' || e.ref === '')) throw new CliError(`${where}: ref must be a non-empty string`, 2);
    const cred: CliCredential = { identity: e.identity, key: hexKey(e.key, where) };
    if (typeof e.endpoint === 'string') cred.endpoint = e.endpoint;
    if (typeof e.ref === 'string') cred.ref = e.ref;
    return cred;
  });
}

/** The credentials of --credentials and --psk; a later one for the same identity wins (--psk after --credentials). */
async function loadAllCredentials(opts: ServeOptions): Promise<CliCredential[]> {
  const credentials = [...(opts.credentials !== undefined ? await loadCredentials(opts.credentials) : []), ...opts.psk.map((p) => parsePskOption(p))];
  return [...new Map(credentials.map((c) => [c.identity, c])).values()];
}

/** The credentials as the servers take them (without `ref`). */
function serverCredentials(credentials: readonly CliCredential[]): PskCredential[] {
  return credentials.map(({ identity, key, endpoint }) => (endpoint === undefined ? { identity, key } : { identity, key, endpoint }));
}

/**
 * CoAPS options of a server from its port option (--dtls-port, --bootstrap-dtls-port) and the
 * credentials: the option's port, else `defaultPort` when there are credentials; undefined when
 * neither is given.
 */
function coapsOptions(portText: string | undefined, option: string, defaultPort: number, opts: ServeOptions, credentials: readonly CliCredential[]): Lwm2mDtlsOptions | undefined {
  if (portText === undefined && credentials.length === 0) return undefined;
  const port = portText !== undefined ? portOption(portText, option) : defaultPort;
  return { port, address: opts.bind, credentials: serverCredentials(credentials) };
}

/**
 * A bootstrap configuration's `security.keyRef` names a credential of --psk / --credentials: the
 * one whose `ref` (credentials file) equals it, else the one whose identity equals it.
 */
export function credentialKeyResolver(credentials: readonly CliCredential[]): KeyResolver {
  return (keyRef) => (credentials.find((c) => c.ref === keyRef) ?? credentials.find((c) => c.identity === keyRef))?.key;
}

/** Starts the bootstrap server (src/core/bootstrap); on failure an error event, and the LwM2M server runs on without it. */
async function startBootstrap(
  opts: ServeOptions,
  port: number,
  models: ModelRegistry,
  event: (name: string, fields?: Json) => void,
  credentials: readonly CliCredential[],
): Promise<BootstrapServer | undefined> {
  try {
    const config = opts.bootstrapConfig !== undefined ? await loadBootstrapConfig([opts.bootstrapConfig]) : { endpoints: new Map(), default: undefined };
    const bootstrap = new BootstrapServer({ config, models, dtls: coapsOptions(opts.bootstrapDtlsPort, '--bootstrap-dtls-port', DEFAULT_BOOTSTRAP_SECURE_PORT, opts, credentials), resolveKey: credentialKeyResolver(credentials) });
    bootstrap.on('event', (e) => {
      const { type, time, ...rest } = e;
      const fields: Json = { step: type, ...rest };
      if (typeof fields.format === 'number') fields.format = formatName(fields.format);
      event('bootstrap', { ...fields, at: new Date(time).toISOString() });
    });
    bootstrap.on('error', (err) => event('error', { source: 'bootstrap', message: err.message }));
    await bootstrap.start({ port, address: opts.bind });
    const a = bootstrap.address()!;
    event('bootstrap', { step: 'listening', address: a.address, port: a.port, family: a.family });
    const s = bootstrap.secureAddress();
    if (s) event('bootstrap', { step: 'listening', secure: true, address: s.address, port: s.port, family: s.family });
    return bootstrap;
  } catch (err) {
    event('error', { source: 'bootstrap', message: `the bootstrap server did not start: ${(err as Error).message}; the LwM2M server runs without it` });
    return undefined;
  }
}

function wireEvents(server: Lwm2mServer, models: ModelRegistry, event: (name: string, fields?: Json) => void, traffic: boolean): void {
  server.on('registered', (r) => event('registered', { endpoint: r.endpoint, registration: registrationJson(r) }));
  server.on('updated', (r) => event('updated', { endpoint: r.endpoint, registration: registrationJson(r) }));
  server.on('deregistered', (r) => event('deregistered', { endpoint: r.endpoint, registrationId: r.id }));
  server.on('expired', (r) => event('expired', { endpoint: r.endpoint, registrationId: r.id }));
  server.on('replaced', (p, r) => event('replaced', { endpoint: r.endpoint, previousId: p.id, registrationId: r.id }));
  server.on('notification', (n) => {
    const reg = server.registration(n.endpoint);
    const fields: Json = {
      endpoint: n.endpoint,
      observation: n.observation.id,
      path: n.observation.path.toString(),
      code: n.code,
      format: n.format === undefined ? null : formatName(n.format),
      sequence: n.sequence ?? null,
      nodes: nodesJson(n.records, n.observation.path, n.format, models, reg),
      payload: hex(n.payload),
    };
    if (n.decodeError) fields.error = errorJson(n.decodeError);
    event('notification', fields);
  });
  server.on('observationEnded', (o, reason) => event('observation-ended', { endpoint: o.endpoint, observation: o.id, path: o.path.toString(), reason }));
  server.on('send', (s) => {
    const fields: Json = {
      endpoint: s.endpoint,
      format: s.format === undefined ? null : formatName(s.format),
      nodes: nodesJson(s.records, Lwm2mPath.ROOT, s.format, models, server.registration(s.endpoint)),
      payload: hex(s.payload),
    };
    if (s.decodeError) fields.error = errorJson(s.decodeError);
    event('send', fields);
  });
  server.on('sleeping', (r) => event('sleeping', { endpoint: r.endpoint }));
  server.on('awake', (r) => event('awake', { endpoint: r.endpoint }));
  server.on('requestQueued', (q) => event('request-queued', { endpoint: q.endpoint, request: queuedJson(q) }));
  server.on('requestExpired', (q) => event('request-expired', { endpoint: q.endpoint, request: queuedJson(q) }));
  server.on('error', (err) => event('error', { source: 'server', message: err.message }));
  if (traffic) server.on('traffic', (t) => event('traffic', { line: formatTrafficEntry(t), summary: summarizeTrafficEntry(t) }));
}

// ----- Commands -------------------------------------------------------------------------------

const USAGE: readonly string[] = [
  'list',
  'read EP PATH [--format F]',
  'discover EP PATH',
  'write EP PATH VALUE [--format F]',
  'write EP PATH --json NODES [--replace|--update] [--format F]',
  'write-attributes EP PATH pmin=1&pmax=5',
  'execute EP PATH [ARGS]',
  'create EP PATH --json NODES [--format F] [--client-id]',
  'delete EP PATH',
  'observe EP PATH [--format F]',
  'observe-composite EP PATH... [--format F]',
  'cancel EP PATH|ID [--active]',
  'read-composite EP PATH... [--format F]',
  'write-composite EP --json NODES [--format F]',
  'observations EP',
  'queue EP',
  'unqueue EP ID',
  'help',
];

interface Token {
  text: string;
  /** Offset of the token in the line. */
  start: number;
}

/**
 * Splits a command line: whitespace separates; '…' and "…" quote (with \" and \\ inside double
 * quotes); a token starting with [ or { runs to its matching bracket, so JSON needs no quotes.
 */
export function tokenize(line: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = line.length;
  while (i < n) {
    while (i < n && /\s/.test(line[i]!)) i++;
    if (i >= n) break;
    const start = i;
    const c = line[i]!;
    if (c === '[' || c === '{') {
      let depth = 0;
      let inString = false;
      for (; i < n; i++) {
        const ch = line[i]!;
        if (inString) {
          if (ch === '\\') i++;
          else if (ch === '"') inString = false;
        } else if (ch === '"') inString = true;
        else if (ch === '[' || ch === '{') depth++;
        else if (ch === ']' || ch === '}') {
          depth--;
          if (depth === 0) {
            i++;
            break;
          }
        }
      }
      out.push({ text: line.slice(start, i), start });
    } else if (c === '"' || c === "'") {
      let text = '';
      i++;
      while (i < n && line[i] !== c) {
        if (c === '"' && line[i] === '\\' && i + 1 < n) i++;
        text += line[i++];
      }
      if (i >= n) throw new UsageError(`unterminated ${c} quote at character ${start + 1}`);
      i++;
      out.push({ text, start });
    } else {
      while (i < n && !/\s/.test(line[i]!)) i++;
      out.push({ text: line.slice(start, i), start });
    }
  }
  return out;
}

/** Flags taking a value, and boolean flags. */
const VALUE_FLAGS = new Set(['--format', '--json', '--timeout']);
const BOOLEAN_FLAGS = new Set(['--replace', '--update', '--active', '--client-id']);

interface ParsedCommand {
  name: string;
  args: Token[];
  flags: Map<string, string | true>;
}

function parseCommand(line: string): ParsedCommand {
  const tokens = tokenize(line);
  const [first, ...rest] = tokens;
  const args: Token[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < rest.length; i++) {
    const t = rest[i]!;
    if (VALUE_FLAGS.has(t.text)) {
      const v = rest[++i];
      if (!v) throw new UsageError(`${t.text} needs a value`);
      flags.set(t.text, v.text);
    } else if (BOOLEAN_FLAGS.has(t.text)) flags.set(t.text, true);
    else args.push(t);
  }
  return { name: first?.text ?? '', args, flags };
}

class Commands {
  constructor(
    private readonly server: Lwm2mServer,
    private readonly models: ModelRegistry,
  ) {}

  async run(line: string): Promise<Json> {
    const cmd = parseCommand(line);
    const { name, args, flags } = cmd;
    const arg = (i: number, what: string): string => {
      const t = args[i];
      if (!t) throw new UsageError(`${name}: missing ${what} (usage: ${USAGE.filter((u) => u.startsWith(`${name} `)).join(' | ')})`);
      return t.text;
    };
    const noMore = (count: number) => {
      if (args.length > count) throw new UsageError(`${name}: unexpected argument "${args[count]!.text}"`);
    };
    const format = (): number | undefined => {
      const f = flags.get('--format');
      if (f === undefined) return undefined;
      try {
        return formatOption(String(f), '--format');
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
    };
    const timeout = (): { timeoutMs?: number } => {
      const t = flags.get('--timeout');
      if (t === undefined) return {};
      if (typeof t !== 'string' || !/^\d+$/.test(t)) throw new UsageError('--timeout needs milliseconds');
      return { timeoutMs: Number(t) };
    };
    const path = (i: number) => parsePath(arg(i, 'PATH'));
    const server = this.server;

    switch (name) {
      case 'help':
        return { commands: USAGE };
      case 'list':
        noMore(0);
        return { registrations: server.registrations().map(registrationJson) };
      case 'read': {
        const ep = arg(0, 'EP');
        const p = path(1);
        noMore(2);
        return this.content(ep, p, await server.read(ep, p, { format: format(), ...timeout() }));
      }
      case 'discover': {
        const ep = arg(0, 'EP');
        const p = path(1);
        noMore(2);
        const res = await server.discover(ep, p, timeout());
        return {
          code: res.code,
          rtt: res.rtt,
          links: res.links.map((l) => ({ path: l.path.toString(), attributes: l.attributes })),
          problems: res.problems,
          payload: Buffer.from(res.payload).toString('utf8'),
        };
      }
      case 'write': {
        const ep = arg(0, 'EP');
        const p = path(1);
        const json = flags.get('--json');
        if (flags.has('--replace') && flags.has('--update')) throw new UsageError('write: --replace and --update exclude each other');
        const mode = flags.has('--update') ? 'update' : 'replace';
        let records: Lwm2mRecord[];
        if (json !== undefined) {
          noMore(2);
          records = this.nodes(String(json), ep);
        } else {
          const value = arg(2, 'VALUE (or --json NODES)');
          noMore(3);
          records = this.valueRecords(ep, p, value);
        }
        return short(await server.write(ep, p, records, { mode, format: format(), ...timeout() }));
      }
      case 'write-attributes': {
        const ep = arg(0, 'EP');
        const p = path(1);
        const attrs = arg(2, 'ATTRIBUTES (e.g. pmin=1&pmax=5)');
        noMore(3);
        return short(await server.writeAttributes(ep, p, attrs, timeout()));
      }
      case 'execute': {
        const ep = arg(0, 'EP');
        const p = path(1);
        // ARGS: the rest of the line as written (it has its own quoting: 5='a b').
        let rest = args[2] ? line.slice(args[2].start).trim() : '';
        for (const f of ['--timeout']) if (flags.has(f)) rest = rest.replace(new RegExp(`\\s*${f}\\s+\\S+\\s*$`), '');
        if (/^".*"$/.test(rest)) rest = rest.slice(1, -1);
        return short(await server.execute(ep, p, rest, timeout()));
      }
      case 'create': {
        const ep = arg(0, 'EP');
        const p = path(1);
        noMore(2);
        const json = flags.get('--json');
        if (json === undefined) throw new UsageError('create: --json NODES is required');
        const res = await server.create(ep, p, this.nodes(String(json), ep), { format: format(), clientAssignsId: flags.has('--client-id'), ...timeout() });
        return { code: res.code, rtt: res.rtt, instanceId: res.instanceId ?? null, location: res.location ?? null };
      }
      case 'delete': {
        const ep = arg(0, 'EP');
        const p = path(1);
        noMore(2);
        return short(await server.delete(ep, p, timeout()));
      }
      case 'observe': {
        const ep = arg(0, 'EP');
        const p = path(1);
        noMore(2);
        const res = await server.observe(ep, p, { format: format(), ...timeout() });
        return { ...this.content(ep, p, res), observation: res.observation ? observationJson(res.observation) : null };
      }
      case 'observe-composite':
      case 'read-composite': {
        const ep = arg(0, 'EP');
        arg(1, 'PATH');
        const paths = args.slice(1).map((t) => parsePath(t.text));
        const opts = { format: format(), ...timeout() };
        if (name === 'read-composite') return this.content(ep, Lwm2mPath.ROOT, await server.readComposite(ep, paths, opts));
        const res = await server.observeComposite(ep, paths, opts);
        return { ...this.content(ep, Lwm2mPath.ROOT, res), observation: res.observation ? observationJson(res.observation) : null };
      }
      case 'write-composite': {
        const ep = arg(0, 'EP');
        noMore(1);
        const json = flags.get('--json');
        if (json === undefined) throw new UsageError('write-composite: --json NODES is required');
        return short(await server.writeComposite(ep, this.nodes(String(json), ep), { format: format(), ...timeout() }));
      }
      case 'cancel': {
        const ep = arg(0, 'EP');
        const what = arg(1, 'PATH or observation ID');
        noMore(2);
        const known = server.observations(ep).some((o) => o.id === what);
        const cancelled = await server.cancelObservation(ep, known ? what : parsePath(what), { active: flags.has('--active'), ...timeout() });
        return { cancelled };
      }
      case 'observations': {
        const ep = arg(0, 'EP');
        noMore(1);
        return { observations: server.observations(ep).map(observationJson) };
      }
      case 'queue': {
        const ep = arg(0, 'EP');
        noMore(1);
        return { requests: server.queuedRequests(ep).map(queuedJson) };
      }
      case 'unqueue': {
        const ep = arg(0, 'EP');
        const id = arg(1, 'ID');
        noMore(2);
        if (!/^\d+$/.test(id)) throw new UsageError(`unqueue: ID "${id}" is not a number`);
        return { cancelled: server.cancelQueuedRequest(ep, Number(id)) };
      }
      default:
        throw new UsageError(`unknown command "${name}"; commands: ${USAGE.map((u) => u.split(' ')[0]).filter((v, i, a) => a.indexOf(v) === i).join(', ')}`);
    }
  }

  private versions(endpoint: string): ReadonlyMap<number, string> | undefined {
    const reg = this.server.registration(endpoint);
    return reg ? objectVersions(reg) : undefined;
  }

  /** NODES JSON → records (types from a "type" field or the models). */
  private nodes(json: string, endpoint: string): Lwm2mRecord[] {
    let doc: unknown;
    try {
      doc = JSON.parse(json);
    } catch (e) {
      throw new UsageError(`--json: not JSON: ${(e as Error).message}`);
    }
    return jsonToRecords(doc, { models: this.models, objectVersions: this.versions(endpoint) }).records;
  }

  /** A VALUE written as text/plain, typed by the resource's model. */
  private valueRecords(endpoint: string, path: Lwm2mPath, value: string): Lwm2mRecord[] {
    if (path.length < 3) throw new UsageError(`write: a VALUE needs a resource path (/O/I/R or /O/I/R/RI), not ${path.toString()}; use --json NODES`);
    const objectVersions = this.versions(endpoint);
    // People type booleans as true/false; text/plain spells them 1/0.
    const resource = this.models.getResource(path.objectId!, path.resourceId!, objectVersions?.get(path.objectId!));
    const text = resource?.type === 'boolean' && /^(true|false)$/i.test(value) ? (value.toLowerCase() === 'true' ? '1' : '0') : value;
    const decoded = codecRegistry.decode(ContentFormat.Text, Buffer.from(text, 'utf8'), { path, models: this.models, objectVersions });
    return decoded.records.map(({ path: p, type, value: v }) => ({ path: p, type, value: v }));
  }

  private content(endpoint: string, path: Lwm2mPath, res: Lwm2mResponse): Json {
    return {
      code: res.code,
      rtt: res.rtt,
      format: res.format === undefined ? null : formatName(res.format),
      path: path.toString(),
      nodes: nodesJson(res.records, path, res.format, this.models, this.server.registration(endpoint)),
      payload: hex(res.payload),
    };
  }
}

function parsePath(text: string): Lwm2mPath {
  try {
    return Lwm2mPath.parse(text);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

function short(res: Lwm2mResponse): Json {
  return { code: res.code, rtt: res.rtt };
}

// ----- JSON shapes ----------------------------------------------------------------------------

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

function nodesJson(records: readonly Lwm2mRecord[], path: Lwm2mPath, format: number | undefined, models: ModelRegistry, reg: Registration | undefined): unknown[] {
  return recordsToJson(records, { format: format ?? 'unknown', path, models, objectVersions: reg ? objectVersions(reg) : undefined }).nodes;
}

export function registrationJson(r: Registration): Json {
  const out: Json = {
    id: r.id,
    endpoint: r.endpoint,
    address: r.address.address.includes(':') ? `[${r.address.address}]:${r.address.port}` : `${r.address.address}:${r.address.port}`,
    lifetime: r.lifetime,
    lwm2mVersion: r.lwm2mVersion,
    binding: r.binding,
    queueMode: r.queueMode,
  };
  if (r.sms !== undefined) out.sms = r.sms;
  Object.assign(out, {
    rootPath: r.rootPath,
    objects: r.objects.map((o) => (o.version === undefined ? { id: o.id, instances: o.instances } : { id: o.id, version: o.version, instances: o.instances })),
    contentFormats: r.contentFormats,
    extraParams: r.extraParams,
    registeredAt: new Date(r.registeredAt).toISOString(),
    lastUpdate: new Date(r.lastUpdate).toISOString(),
    expiresAt: new Date(r.expiresAt).toISOString(),
    security: r.security,
  });
  if (r.pskIdentity !== undefined) out.pskIdentity = r.pskIdentity;
  return out;
}

function observationJson(o: ServerObservation): Json {
  return { id: o.id, path: o.path.toString(), paths: o.paths.map(String), composite: o.composite, format: o.format === undefined ? null : formatName(o.format) };
}

function queuedJson(q: QueuedRequestInfo): Json {
  return {
    id: q.id,
    operation: q.operation,
    method: q.method,
    path: q.path,
    state: q.state,
    enqueuedAt: new Date(q.enqueuedAt).toISOString(),
    expiresAt: q.expiresAt === undefined ? null : new Date(q.expiresAt).toISOString(),
  };
}

export function errorJson(err: unknown): Json {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err) };
  const out: Json = { name: err.name, message: err.message };
  if (err instanceof ResponseCodeError) Object.assign(out, { code: err.code, meaning: err.meaning, diagnostic: err.diagnostic });
  else if (err instanceof ResponseDecodeError) {
    Object.assign(out, { code: err.code, format: err.format === undefined ? null : formatName(err.format), payload: hex(err.payload), cause: { name: err.cause.name, message: err.cause.message } });
  }
  return out;
}
