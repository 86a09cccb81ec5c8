/** `lwm2m-workbench decode`: payload bytes → the JSON node document. */
import type { Command } from 'commander';
import { decode, detectFormat } from '../core/codec/registry';
import { formatName } from '../core/contentFormat';
import { recordsToJson } from '../core/json';
import { collect, FORMAT_HELP, formatOption, loadModels, printNotes, readPayload, requirePath, type CliIo } from './common';

interface DecodeOptions {
  format?: string;
  path?: string;
  models: string[];
  hex?: boolean;
}

export function registerDecode(program: Command, io: CliIo): void {
  program
    .command('decode')
    .summary('decode a payload into JSON nodes')
    .description(
      'Decode an LwM2M payload and print one JSON node per resource or resource instance:\n' +
        '{"format", "path", "nodes": [{"path", "name", "type", "value", "time"?}]}.\n' +
        'Opaque values print as hex, object links as "O:I", integers beyond 2^53 as strings.\n' +
        'Without --format the format is guessed (the guess is reported on stderr).',
    )
    .argument('[file]', 'payload file; "-" or none reads standard input')
    .option('-f, --format <format>', 'content format of the payload (name or number)')
    .option('-p, --path <path>', 'request path the payload answers, e.g. /3/0 (needed for tlv, text, opaque, cbor)')
    .option('-m, --models <dir>', 'load DDF object models (*.xml) from this directory; repeatable', collect, [])
    .option('-x, --hex', 'the input is hex text (spaces, newlines, ":" and 0x prefixes allowed)')
    .addHelpText('after', `\n${FORMAT_HELP}\n\nExamples:\n  lwm2m-workbench decode --format tlv --path /3/0 device.tlv\n  echo "c1 09 64" | lwm2m-workbench decode -f tlv -p /3/0 --hex`)
    .action(async (file: string | undefined, opts: DecodeOptions) => {
      let format = opts.format !== undefined ? formatOption(opts.format, '--format') : undefined;
      if (format !== undefined && opts.path === undefined) requirePath(undefined, format);
      const bytes = await readPayload(file, !!opts.hex, io);
      if (format === undefined) {
        const guess = detectFormat(bytes);
        format = guess.format;
        io.stderr(`note: no --format given; decoding as ${formatName(format)}: ${guess.reason}\n`);
      }
      const path = requirePath(opts.path, format);
      const models = await loadModels(opts.models, io);
      const result = decode(format, bytes, { path, models });
      printNotes(result.notes, io);
      const doc = recordsToJson(result.records, { format, path, models });
      io.stdout(JSON.stringify(doc, null, 2) + '\n');
    });
}
