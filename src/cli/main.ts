// The `ai-proxy` command: one file per subcommand, wired here.
import { Command } from 'commander';
import { VERSION } from '../version.js';
import { registerCallCommand } from './call.js';
import { registerConfigCommand } from './config-check.js';
import { registerGenerateKeyCommand } from './generate-key.js';
import { registerKeysCommand } from './keys.js';
import { registerLogsCommand } from './logs.js';
import { registerBundleCommands } from './logs-bundle.js';
import { registerModelsCommand } from './models.js';
import { registerServeCommand } from './serve.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('ai-proxy')
    .description('OpenAI-compatible gateway to many model providers')
    .version(VERSION, '-V, --version')
    .showHelpAfterError();
  registerServeCommand(program);
  registerGenerateKeyCommand(program);
  registerKeysCommand(program);
  registerCallCommand(program);
  registerModelsCommand(program);
  registerConfigCommand(program);
  registerLogsCommand(program, [registerBundleCommands]);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  // A reader that stops early (`ai-proxy models | head`) closes the pipe: that ends the output, it
  // is not a crash to report. (The server's process log goes through pino's own stream.)
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(0);
  });
  await buildProgram().parseAsync(argv);
}
