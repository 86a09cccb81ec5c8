/**
 * The `lwm2m-workbench` command: decode, encode and convert LwM2M payloads, and list object
 * models. Built by esbuild into dist/cli.js; `main(argv)` is exported for tests and embedding.
 */
import { Command, CommanderError } from 'commander';
import { version } from '../../package.json';
import { DecodeError, EncodeError } from '../core/errors';
import { JsonInputError } from '../core/json';
import { UnsupportedFormatError } from '../core/codec/registry';
import { CliError, processIo, type CliIo } from './common';
import { registerConvert } from './convert';
import { registerDecode } from './decode';
import { registerEncode } from './encode';
import { registerModels } from './models';
import { registerServe } from './serve';
import { registerSimulate } from './simulate';

/** Builds the command tree (exposed for help-text tests). */
export function createProgram(io: CliIo): Command {
  const program = new Command();
  program
    .name('lwm2m-workbench')
    .description('Decode, encode and convert LwM2M payloads (TLV, SenML JSON/CBOR, LwM2M JSON/CBOR, CBOR, text, opaque, link format) and inspect object models.')
    .version(version, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .helpCommand('help [command]', 'show help for a command')
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout(s),
      writeErr: (s) => io.stderr(s),
    });
  registerDecode(program, io);
  registerEncode(program, io);
  registerConvert(program, io);
  registerModels(program, io);
  registerServe(program, io);
  registerSimulate(program, io);
  return program;
}

/**
 * Runs the CLI with `argv` as in `process.argv` (node, script, args…) and resolves to the exit
 * code: 0 ok, 1 bad data (undecodable payload, bad JSON), 2 bad usage.
 */
export async function main(argv: readonly string[] = process.argv, io: CliIo = processIo()): Promise<number> {
  const program = createProgram(io);
  try {
    await program.parseAsync([...argv]);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version exit with 0; commander has already printed its message
      return e.exitCode === 0 ? 0 : 2;
    }
    if (e instanceof CliError) {
      io.stderr(`error: ${e.message}\n`);
      return e.exitCode;
    }
    if (e instanceof DecodeError) {
      io.stderr(`error: ${e.message}\n`);
      if (e.partial.length > 0) io.stderr(`note: ${e.partial.length} value${e.partial.length === 1 ? '' : 's'} decoded before the error\n`);
      return 1;
    }
    if (e instanceof EncodeError || e instanceof JsonInputError) {
      io.stderr(`error: ${e.message}\n`);
      return 1;
    }
    if (e instanceof UnsupportedFormatError) {
      io.stderr(`error: ${e.message}\n`);
      return 2;
    }
    io.stderr(`internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 70;
  }
}

if (typeof require !== 'undefined' && typeof module !== 'undefined' && require.main === module) {
  void main().then((code) => {
    process.exitCode = code;
  });
}
