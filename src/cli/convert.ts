/** `lwm2m-workbench convert`: payload bytes in one format → another format. */
import type { Command } from 'commander';
import { convert } from '../core/codec/registry';
import { collect, FORMAT_HELP, formatOption, loadModels, printNotes, readPayload, requirePath, writePayload, type CliIo } from './common';

interface ConvertOptions {
  from: string;
  to: string;
  path?: string;
  models: string[];
  hex?: boolean;
}

export function registerConvert(program: Command, io: CliIo): void {
  program
    .command('convert')
    .summary('convert a payload between content formats')
    .description('Decode a payload in one content format and write it in another (raw bytes to standard output).')
    .argument('[file]', 'payload file; "-" or none reads standard input')
    .requiredOption('--from <format>', 'content format of the input (name or number)')
    .requiredOption('--to <format>', 'content format to write (name or number)')
    .option('-p, --path <path>', 'request path the payload answers, e.g. /3/0 (needed for tlv, text, opaque, cbor)')
    .option('-m, --models <dir>', 'load DDF object models (*.xml) from this directory; repeatable', collect, [])
    .option('-x, --hex', 'read and write hex text instead of raw bytes')
    .addHelpText('after', `\n${FORMAT_HELP}\n\nExample:\n  lwm2m-workbench convert --from tlv --to senml-cbor --path /3/0 device.tlv > device.senml.cbor`)
    .action(async (file: string | undefined, opts: ConvertOptions) => {
      const from = formatOption(opts.from, '--from');
      const to = formatOption(opts.to, '--to');
      const path = requirePath(opts.path, from);
      const bytes = await readPayload(file, !!opts.hex, io);
      const models = await loadModels(opts.models, io);
      const result = convert(from, to, bytes, { path, models });
      printNotes(result.notes, io);
      writePayload(result.bytes, !!opts.hex, io);
    });
}
