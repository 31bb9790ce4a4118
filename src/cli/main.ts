#!/usr/bin/env node
// The `berth` command. Each subcommand is a small module; this file only dispatches. The
// commands that talk to a cluster are loaded on demand, so `validate` and `simulate` (a CI step
// of a GitOps repository) do not pay for loading the Kubernetes client.
import { parseArgs } from 'node:util';
import { validateFiles } from './validate.js';

const USAGE = `Usage: berth <command> [flags]

Commands:
  run --config PATH     run the operator against the current cluster
  simulate -f PATH...   what the operator would do with these files (-o json|yaml|table)
  explain rr/NAME       why a request is where it is, from its live status (-n NAMESPACE)
  top                   the fleet at a glance: pools, what each namespace holds, what waits
  validate -f PATH...   validate Berth resources and OperatorConfig files (folders are walked)

Run 'berth <command> --help' for the flags of a command.`;

function validateCommand(args: string[]): number {
  const { values } = parseArgs({
    args,
    options: {
      filename: { type: 'string', short: 'f', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || !values.filename?.length) {
    console.log(
      'Usage: berth validate -f PATH [-f PATH...]\nExit code 1 when any document is invalid.',
    );
    return values.help ? 0 : 2;
  }
  const report = validateFiles(values.filename);
  for (const line of report.errors) console.error(line);
  const verdict = report.errors.length === 0 ? 'valid' : `${report.errors.length} error(s)`;
  console.log(
    `${report.validated} Berth document(s) checked, ${report.skipped} other(s) skipped: ${verdict}`,
  );
  return report.errors.length === 0 ? 0 : 1;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'validate':
      return validateCommand(rest);
    case 'run':
      return (await import('./run.js')).runCommand(rest);
    case 'simulate':
      return (await import('./simulate.js')).simulateCommand(rest);
    case 'explain':
      return (await import('./explain.js')).explainCommand(rest);
    case 'top':
      return (await import('./top.js')).topCommand(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return command === undefined ? 2 : 0;
    default:
      console.error(`berth: unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`berth: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
