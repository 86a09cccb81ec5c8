/** `lwm2m-workbench encode`: the JSON node document → payload bytes. */
import type { Command } from 'commander';
import { encode } from '../core/codec/registry';
import { jsonToRecords } from '../core/json';
import { CliError, collect, FORMAT_HELP, formatOption, loadModels, pathOption, readInput, writePayload, type CliIo } from './common';
import { Lwm2mPath } from '../core/path';

interface EncodeOptions {
  format: string;
  path?: string;
  models: string[];
  hex?: boolean;
}

export function registerEncode(program: Command, io: CliIo): void {
  program
    .command('encode')
    .summary('encode JSON nodes into a payload')
    .description(
      'Read the JSON that "decode" prints (or a bare array of nodes) and write the payload in the ' +
        'given format to standard output. Each node needs "path" and "value" ("time" optional); ' +
        'the type comes from a "type" field or from the object model.',
    )
    .argument('[file]', 'JSON file; "-" or none reads standard input')
    .requiredOption('-f, --format <format>', 'content format to write (name or number)')
    .option('-p, --path <path>', 'request path the payload is for (default: the "path" in the JSON, else /)')
    .option('-m, --models <dir>', 'load DDF object models (*.xml) from this directory; repeatable', collect, [])
    .option('-x, --hex', 'write hex text instead of raw bytes')
    .addHelpText('after', `\n${FORMAT_HELP}\n\nExample:\n  lwm2m-workbench decode -f tlv -p /3/0 in.tlv | lwm2m-workbench encode -f senml-json`)
    .action(async (file: string | undefined, opts: EncodeOptions) => {
      const format = formatOption(opts.format, '--format');
      const explicitPath = opts.path !== undefined ? pathOption(opts.path) : undefined;
      const input = new TextDecoder().decode(await readInput(file, io));
      let doc: unknown;
      try {
        doc = JSON.parse(input);
      } catch (e) {
        throw new CliError(`input is not JSON: ${(e as Error).message}`);
      }
      const models = await loadModels(opts.models, io);
      const read = jsonToRecords(doc, { models });
      const path = explicitPath ?? read.path ?? Lwm2mPath.ROOT;
      writePayload(encode(format, read.records, { path, models }), !!opts.hex, io);
    });
}
