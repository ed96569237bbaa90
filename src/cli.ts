#!/usr/bin/env node
import { ConfigError } from './config.ts';
import { printError, UsageError } from './cli/common.ts';
import { devCommand, devUsage } from './cli/dev.ts';
import { migrateCommand, migrateUsage } from './cli/migrate.ts';
import { serveCommand, serveUsage } from './cli/serve.ts';
import { simCommand, simUsage } from './cli/sim.ts';
import { tokenCommand, tokenUsage } from './cli/token.ts';

const commands: Record<string, { run: (args: string[]) => Promise<number>; usage: string }> = {
  dev: { run: devCommand, usage: devUsage },
  serve: { run: serveCommand, usage: serveUsage },
  migrate: { run: migrateCommand, usage: migrateUsage },
  token: { run: tokenCommand, usage: tokenUsage },
  sim: { run: simCommand, usage: simUsage },
};

const usage = `usage: cloudpods <command>\n\n${Object.values(commands).map((c) => c.usage).join('\n\n')}\n`;

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(usage);
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    printError(`unknown command "${name}"\n\n${usage}`);
    return 2;
  }
  try {
    return await command.run(args);
  } catch (error) {
    if (error instanceof ConfigError) {
      printError(error.message);
      return 2;
    }
    // parseArgs reports unknown or malformed flags with these codes.
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (error instanceof UsageError || code.startsWith('ERR_PARSE_ARGS')) {
      printError(`${(error as Error).message}\n\nusage:\n${command.usage}`);
      return 2;
    }
    printError(`cloudpods ${name}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return 1;
  }
}

// Exit explicitly: pools, timers and the embedded server's exit hooks must not keep a finished command alive.
process.exit(await main(process.argv.slice(2)));
