// Composition root of the CLI: declares every command (their implementations load lazily), maps errors to exit codes.
import { Command, CommanderError, Option } from '@commander-js/extra-typings';
import { EXIT, exitCodeFor, formatDiagnostic, InterlockError } from '../core/errors.js';
import { NATIVE_TRIGGER_TYPES } from '../core/lists.js';
import type { RunHooks } from './commands/run.js';
import { type GlobalOptions, handleEpipe, makeOut, type Out } from './output.js';
import { VERSION } from './version.js';

const EXIT_HELP = `
Exit codes:
  0  success; READY; triggered (also: fired, then completed by its callback first)
  1  blocked: NOT_READY, another run active, or a refused (conflicting) completion/cancel; nothing fired
  2  usage or config error (unknown pipeline or run included)
  3  runtime failure (store unreachable, internal error), the trigger failed, or it fired and the run was then
     cancelled or timed out
  130/143  interrupted (SIGINT/SIGTERM): evaluators and trigger killed, the outcome recorded

Environment:
  NO_COLOR   disable colours (colours are only used on a terminal anyway); so does TERM=dumb
  INTERLOCK_LOG  info or debug: also print those log lines on stderr (default: warnings and errors only)
  INTERLOCK_LOG_LEVEL   serve/watch: the log level (as --log-level; wins over INTERLOCK_LOG)
  INTERLOCK_LOG_FORMAT  serve/watch: json for pino JSON lines on stderr (as --log-format)

Docs: README.md. Config files are validated against schemas/*.schema.json.`;

/** Prints an error (human or JSON) and returns its exit code. */
function reportError(out: Out, err: unknown): number {
  const code = exitCodeFor(err);
  if (err instanceof InterlockError) {
    const diagnostics = err.context.diagnostics ?? [];
    if (out.json) {
      out.printJson({
        error: { code: err.code, message: err.message, ...(diagnostics.length ? { diagnostics } : {}) },
      });
    } else {
      for (const d of diagnostics) out.err(formatDiagnostic(d));
      out.err(`interlock: ${err.message}`);
    }
    return code;
  }
  const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
  if (out.json)
    out.printJson({ error: { code: 'INTERNAL', message: String(err instanceof Error ? err.message : err) } });
  else out.err(`interlock: internal error: ${message}`);
  return code;
}

/** Wraps a command action: builds output, runs it, turns results and errors into the exit code. */
function action<A extends unknown[]>(
  program: Command,
  fn: (out: Out, globals: GlobalOptions, ...args: A) => Promise<number>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const globals = program.opts() as GlobalOptions;
    const out = makeOut(globals);
    try {
      process.exitCode = await fn(out, globals, ...args);
    } catch (err) {
      process.exitCode = reportError(out, err);
    }
  };
}

/** What an embedder passes into the commands' use-cases; `bin/interlock` passes nothing (a test entry point does). */
export interface CliHooks {
  run?: RunHooks;
}

export function buildProgram(hooks: CliHooks = {}): Command {
  const program = new Command()
    .name('interlock')
    .description('Safety gate for data pipelines: evaluate preconditions (traits) and say READY or NOT_READY, and why.')
    .version(VERSION, '-V, --version', 'print the version (with --json: {"version": "…"})')
    .option('-c, --config <file>', 'interlock.yaml to use (default: search the current directory and its parents)')
    .option('--json', 'machine-readable JSON output')
    .option('--no-color', 'disable colours')
    .addHelpText('after', EXIT_HELP)
    .showHelpAfterError('(run with --help for usage)')
    // Set before the commands are added, so every subcommand inherits them: its --help lists the global options
    // too (as gh does), and usage errors carry the one prefix every other error has ("interlock: …", not "error: …").
    .configureHelp({ showGlobalOptions: true })
    .configureOutput({ outputError: (s, write) => write(s.replace(/^error: /, 'interlock: ')) })
    .helpCommand(false)
    .exitOverride();

  program
    .command('init')
    .description('create a project: interlock.yaml, starter archetypes, an example pipeline and its evaluators')
    .argument('<dir>', 'directory to create (or an empty existing one)')
    .addOption(
      new Option(
        '--provider <provider>',
        'state store (redis: localhost:6379, keys prefixed "interlock:<dir>:"; postgres: $DATABASE_URL, schema interlock_<dir>)',
      )
        .choices(['sqlite', 'redis', 'postgres'] as const)
        .default('sqlite' as const),
    )
    .option('--force', 'overwrite the files of an existing project')
    .option('--start-valkey', 'also start a local Valkey container with Docker (for --provider redis)')
    .action(
      action(program, async (out, _g, dir: string, opts) => (await import('./commands/init.js')).init(out, dir, opts)),
    );

  program
    .command('add-pipeline')
    .description('write a new pipelines/<name>.yaml for an archetype (validated; never overwrites)')
    .requiredOption('--name <name>', 'pipeline name ([a-z0-9][a-z0-9._-]*)')
    .requiredOption('--archetype <archetype>', 'archetype it instantiates')
    .option('--tier <n>', 'criticality tier (whole number)')
    .addOption(new Option('--trigger-type <type>', 'what runs the pipeline').choices(['command', 'http'] as const))
    .option('--trigger-command <command>', 'shell command of a command trigger')
    .option('--trigger-url <url>', 'URL of an http trigger (POST)')
    .action(
      action(program, async (out, g, opts) =>
        (await import('./commands/add-pipeline.js')).addPipelineCmd(out, g, opts),
      ),
    );

  program
    .command('validate')
    .description('check the whole project and print every diagnostic (file:line:col); exit 2 on any error')
    .option('--strict', 'treat warnings as errors too (exit 2)')
    .option('--stpa', 'also warn for scheduled pipelines with an unsafe control action nothing guards (see stpa)')
    .option('--connect', 'also open each SQL connection and check that the tables and columns the builtins name exist')
    .action(action(program, async (out, g, o) => (await import('./commands/validate.js')).validate(out, g, o)));

  program
    .command('evaluate')
    .description("run the pipeline's evaluators now and decide readiness (exit 0 READY, 1 NOT_READY)")
    .argument('<pipeline>', 'pipeline name')
    .action(
      action(program, async (out, g, name: string) => (await import('./commands/evaluate.js')).evaluate(out, g, name)),
    );

  program
    .command('run')
    .description('evaluate afresh and, only if READY, fire the trigger (one run at a time per pipeline)')
    .argument('<pipeline>', 'pipeline name')
    .addHelpText(
      'after',
      '\nExit codes: 0 triggered (COMPLETED, or RUNNING for an async http trigger; also when a callback completed it\nfirst); 1 blocked, nothing fired (NOT_READY, or another run is active); 2 usage/config; 3 runtime failure, the\ntrigger failed, or it fired and the run was then cancelled or timed out.',
    )
    .action(
      action(program, async (out, g, name: string) => (await import('./commands/run.js')).run(out, g, name, hooks.run)),
    );

  program
    .command('push')
    .description(
      "store a trait's result from outside (source push; no evaluator runs) and re-decide the pipeline's readiness (recorded in history; a FAIL alerts)",
    )
    .argument('<pipeline>', 'pipeline name')
    .argument('<trait>', 'trait type of the pipeline')
    .requiredOption('--status <status>', 'PASS | FAIL')
    .option('--value <json>', 'JSON object kept with the result (e.g. {"rows":150000})')
    .option('--reason <text>', 'why (shown when it blocks)')
    .option(
      '--ttl <duration>',
      "how long the result counts: seconds or 90s, 15m, 2h, 1d, 1h30m (default the trait's ttl; none: never expires)",
    )
    .action(
      action(program, async (out, g, name: string, trait: string, o) =>
        (await import('./commands/push.js')).push(out, g, name, trait, o),
      ),
    );

  program
    .command('complete')
    .description(
      'completion callback: mark a triggered run success (COMPLETED) or failed (FAILED); idempotent (refused for a running command run: its exit status decides)',
    )
    .argument('<runId>', 'run id (printed by `run`; INTERLOCK_RUN_ID / X-Interlock-Run-Id at the target)')
    .requiredOption('--status <status>', 'success | failed')
    .option('--metadata <json>', 'JSON object kept on the run (e.g. {"rows_processed":150000})')
    .action(
      action(program, async (out, g, runId: string, o) =>
        (await import('./commands/complete.js')).complete(out, g, runId, o),
      ),
    );

  program
    .command('cancel')
    .description(
      "cancel a run that has not ended: its trigger command's process group is stopped first, then the pipeline's lock is freed",
    )
    .argument('<runId>', 'run id')
    .option('--reason <text>', 'why (kept on the run)')
    .action(
      action(program, async (out, g, runId: string, o) =>
        (await import('./commands/cancel.js')).cancel(out, g, runId, o),
      ),
    );

  program
    .command('runs')
    .description('recent runs of a pipeline, newest first; or one run in detail with --id')
    .argument('[pipeline]', 'pipeline name')
    .option('--id <runId>', 'show this run in detail')
    .option('-n, --limit <n>', 'how many runs', '20')
    .option(
      '--refresh',
      `first ask the platform of a RUNNING native-trigger run (${NATIVE_TRIGGER_TYPES.join(', ')}; a lambda run already ended with its invoke) for its job's state, and end the run as it says`,
    )
    .action(
      action(program, async (out, g, name: string | undefined, o) =>
        (await import('./commands/runs.js')).runs(out, g, name, o),
      ),
    );

  program
    .command('status')
    .description(
      'cached readiness of all pipelines, or one in detail (stale traits shown; exit 1 if that one is NOT_READY)',
    )
    .argument('[pipeline]', 'pipeline name')
    .action(
      action(program, async (out, g, name: string | undefined) =>
        (await import('./commands/status.js')).status(out, g, name),
      ),
    );

  program
    .command('windows')
    .description(
      "a pipeline's schedule windows, newest first: state, deadline, why (blocking traits or how it ended), next wake-up",
    )
    .argument('<pipeline>', 'pipeline name')
    .option('-n, --limit <n>', 'how many windows (1–1000)', '20')
    .option('--state <state>', 'only windows in this state (PENDING, OPEN, …, MISSED, …)')
    .action(
      action(program, async (out, g, name: string, o) =>
        (await import('./commands/windows.js')).windows(out, g, name, o),
      ),
    );

  program
    .command('why')
    .description(
      "why hasn't it run? the window and its deadline, READY or the blocking traits (reason, value, since when, TTL left, what would unblock each), the last attempts",
    )
    .argument('<pipeline>', 'pipeline name')
    .option('--window <key>', 'a window of this pipeline (<pipeline>@<schedule>@<UTC ISO>; default: the live one)')
    .action(
      action(program, async (out, g, name: string, o) => (await import('./commands/why.js')).why(out, g, name, o)),
    );

  program
    .command('stpa')
    .description(
      "a pipeline's STPA control structure (controller, actuator, feedback) and, per unsafe control action type, whether its config guards it and by what (all pipelines without a name)",
    )
    .argument('[pipeline]', 'pipeline name')
    .action(
      action(program, async (out, g, name: string | undefined) =>
        (await import('./commands/stpa.js')).stpa(out, g, name),
      ),
    );

  program
    .command('history')
    .description(
      'past readiness decisions and run transitions of a pipeline, newest first: why was it blocked, and when',
    )
    .argument('<pipeline>', 'pipeline name')
    .option('-n, --limit <n>', 'how many records', '20')
    .option(
      '--at <time>',
      'the decision in force at a time: ISO 8601, HH:MM[:SS] today (local time), or epoch seconds or ms (below 10^11: seconds)',
    )
    .option('--before <time>', 'only entries before a time (same forms as --at)')
    .action(
      action(program, async (out, g, name: string, opts) =>
        (await import('./commands/history.js')).history(out, g, name, opts),
      ),
    );

  program
    .command('prune')
    .description(
      'delete history past interlock.yaml `retention` now (decisions 30d, runs 90d, windows 90d by default; the watcher in serve/watch also prunes, a few batches every 10 sweeps): never an active run, an open window, the newest window of a schedule or the newest decision of a pipeline',
    )
    .option('--dry-run', 'count what would be deleted; delete nothing')
    .option('--pipeline <name...>', 'only these pipelines (default: every pipeline with history)')
    .action(action(program, async (out, g, opts) => (await import('./commands/prune.js')).prune(out, g, opts)));

  program
    .command('schedule')
    .description(
      "the next windows of a pipeline's schedules: open, after and deadline instants in the schedule's timezone and UTC, EXCLUDED days marked (reads config only; check a cron before deploying)",
    )
    .argument('<pipeline>', 'pipeline name')
    .option('-n, --next <n>', 'how many windows per schedule (1–1000)', '5')
    .option(
      '--from <time>',
      'list windows opening after this time instead of now: ISO 8601, HH:MM[:SS] today (local time), or epoch seconds or ms',
    )
    .addHelpText(
      'after',
      `
Examples:
  interlock schedule daily-sales                 the next 5 windows of each schedule
  interlock schedule daily-sales --next 20 --from 2026-03-27T00:00:00Z
                                                 20 windows from a fixed instant (e.g. across a DST change)
  interlock schedule daily-sales --json          {pipeline, from, mode, schedules: [{name, cron|everyMs, timezone, …,
                                                 windows: [{key, date, weekday, open, after, deadline, excluded, exclusion?}]}]}
                                                 (each instant as {utc, local})

A pipeline without schedules runs on demand only: it prints so and exits 0 (--json: "schedules": []).
An unknown pipeline, or an INVALID one (its diagnostics printed), exits 2.`,
    )
    .action(
      action(program, async (out, g, name: string, opts) =>
        (await import('./commands/schedule.js')).schedule(out, g, name, opts),
      ),
    );

  program
    .command('serve')
    .description(
      'start the HTTP API (default 127.0.0.1:3000; see README "HTTP API") and, when a pipeline has schedules, the watcher; stops gracefully on SIGTERM/SIGINT',
    )
    .addHelpText(
      'after',
      `
Config reload: SIGHUP, or a change to interlock.yaml or a file in archetypeDirs, pipelineDirs, calendarDirs or
evaluatorDirs (debounced 300 ms), loads the project again without dropping requests. A pipeline the new config
breaks is INVALID (never run) until fixed; an invalid interlock.yaml keeps the whole last good project. Failures are
logged and alerted (CONFIG_RELOAD_FAILED). provider, sqlite, redis, server and evaluatorConcurrency need a restart.`,
    )
    .option('--addr <host:port>', 'listen address (overrides server.addr; ":3000" = all interfaces)')
    .option('--insecure', 'allow listening on a non-loopback address without an API token')
    .option('--no-watch', 'do not run the watcher (schedule windows) in this process; see `interlock watch`')
    .option('--log-format <format>', 'pretty (default: human lines) or json (pino JSON lines); INTERLOCK_LOG_FORMAT')
    .option('--log-level <level>', 'debug, info, warn (default) or error; INTERLOCK_LOG_LEVEL')
    .action(action(program, async (out, g, opts) => (await import('./commands/serve.js')).serve(out, g, opts)));

  program
    .command('watch')
    .description(
      'run the watcher in the foreground without the HTTP API: open schedule windows, re-decide them as evidence changes, fire each window once (several replicas share the work through a lease in the store); stops on SIGTERM/SIGINT',
    )
    .addHelpText(
      'after',
      `
Runs until SIGTERM/SIGINT. Several \`watch\`/\`serve\` processes on one store elect one leader; the others stand by and
take over within the lease time (15 s) when it stops. \`interlock serve\` runs the same watcher unless --no-watch.

Examples:
  interlock watch                 # this host only watches; another serves the API
  INTERLOCK_LOG=info interlock watch   # log every window transition
  interlock watch --metrics-addr 127.0.0.1:9464   # Prometheus scrapes http://127.0.0.1:9464/metrics`,
    )
    .option(
      '--metrics-addr <host:port>',
      'serve GET /metrics (as serve does) on this address; off unless given; off loopback only with an API token',
    )
    .option('--log-format <format>', 'pretty (default: human lines) or json (pino JSON lines); INTERLOCK_LOG_FORMAT')
    .option('--log-level <level>', 'debug, info, warn (default) or error; INTERLOCK_LOG_LEVEL')
    .action(action(program, async (out, g, opts) => (await import('./commands/watch.js')).watch(out, g, opts)));

  // An explicit help command (commander's implicit one cannot show its own help: `interlock help help`).
  program
    .command('help')
    .description('show help for a command (or for interlock)')
    .argument('[command]', 'command to explain')
    .action((name: string | undefined) => {
      if (name === undefined) return program.help();
      const sub = program.commands.find((c) => c.name() === name || c.aliases().includes(name));
      if (!sub) return program.error(`error: unknown command '${name}'`, { code: 'commander.unknownCommand' });
      sub.help();
    });

  return program;
}

/** Entry point: `bin/interlock` calls this with process.argv. */
export async function main(argv: string[], hooks: CliHooks = {}): Promise<void> {
  handleEpipe();
  const program = buildProgram(hooks);
  // With --json, usage errors come back as JSON on stdout like every other error, not as commander's text.
  const wantsJson = argv.includes('--json');
  // Under --json, commander's own stdout text (help, version) is held back: the version becomes JSON.
  let heldOut = '';
  if (wantsJson) {
    const quiet = { writeErr: () => {}, outputError: () => {}, writeOut: (s: string) => void (heldOut += s) };
    program.configureOutput(quiet);
    for (const c of program.commands) c.configureOutput(quiet);
  }
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with code 0; every usage error exits 2.
      process.exitCode = err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
      if (wantsJson) {
        const out = makeOut({ json: true });
        if (err.code === 'commander.version') out.printJson({ version: VERSION });
        else if (err.exitCode === 0) process.stdout.write(heldOut);
        else out.printJson({ error: { code: 'USAGE', message: err.message.replace(/^error: /, '') } });
      }
      return;
    }
    process.exitCode = reportError(makeOut(program.opts() as GlobalOptions), err);
  }
}
