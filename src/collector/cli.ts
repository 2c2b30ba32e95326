import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { VERSION } from '../tracker/version';
import { parseCollectorConfig } from './config';
import { toRoute } from './destinations/config';
import { createCollector } from './http/server';
import { createLogger } from './log';
import { openStore } from './store/open';

const USAGE = `Usage: leadscore serve [options]

  --port N          port to listen on (env PORT; default 8787)
  --host H          address to listen on (env HOST; default 127.0.0.1)
  --db PATH         embedded database folder (default ./leadscore-data/), or a postgres:// URL
  --config FILE     settings file (default ./leadscore.config.json when present)
  --trust-proxy X   hops (1) or proxy CIDRs to trust X-Forwarded-For from (env LEADSCORE_TRUST_PROXY)
  --public-url URL  where the team opens the dashboard, for links in forwarded leads (env LEADSCORE_PUBLIC_URL)
  --log pretty      readable logs instead of JSON lines

Environment: DATABASE_URL (postgres://... uses PostgreSQL), LEADSCORE_ADMIN_PASSWORD (the
dashboard and API stay off without it), LEADSCORE_API_TOKEN (Authorization: Bearer for API clients).`;

/** Parses `--name value` and `--name=value` flags. */
export function parseFlags(args: string[]): { command: string | undefined; flags: Record<string, string> } {
  const flags: Record<string, string> = {};
  let command: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('--')) {
      command ??= arg;
      continue;
    }
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2);
    flags[name!] = inline ?? (args[i + 1] && !args[i + 1]!.startsWith('--') ? args[++i]! : 'true');
  }
  return { command, flags };
}

export async function main(args: string[], env: Record<string, string | undefined> = process.env): Promise<number> {
  const { command, flags } = parseFlags(args);
  if (command !== 'serve' || flags.help) {
    console.log(USAGE);
    return command === 'serve' || flags.help || !command ? 0 : 1;
  }
  const configFile = flags.config ?? (existsSync('leadscore.config.json') ? 'leadscore.config.json' : undefined);
  let file: unknown;
  if (configFile) {
    try {
      file = JSON.parse(readFileSync(configFile, 'utf8'));
    } catch (error) {
      console.error(`leadscore: cannot read ${configFile}: ${(error as Error).message}`);
      return 1;
    }
  }
  const { config, problems } = parseCollectorConfig({ file, env, flags });
  const log = createLogger(config.log);
  for (const problem of problems) log.warn(problem);
  let store;
  try {
    store = await openStore(config.db, { routes: config.destinations.map(toRoute) });
  } catch (error) {
    log.error('cannot open the database', { error: (error as Error).message });
    return 1;
  }
  const collector = await createCollector({ config, store, log, scripts: fileURLToPath(new URL('..', import.meta.url)), version: VERSION });
  await new Promise<void>((resolve, reject) => {
    collector.server.once('error', reject);
    collector.server.listen(config.port, config.host, resolve);
  });
  const address = collector.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  log.info('collector listening', { url: `http://${config.host}:${port}`, database: store.kind, sites: config.sites.length || 'any origin (no sites configured)', destinations: config.destinations.map((d) => d.name) });
  if (!config.adminPassword) log.warn('LEADSCORE_ADMIN_PASSWORD is not set: the dashboard and API answer 503; /collect works');
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      log.info('shutting down', { signal });
      void collector.close().then(resolve, resolve);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  log.info('stopped');
  return 0;
}
