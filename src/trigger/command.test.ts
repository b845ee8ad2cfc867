// Command triggers as real `sh -c` processes: exit codes, signals, timeouts that kill the group, env, cwd, output tails.
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { expectAllDead } from '../../test/support/expect-dead.js';
import type { CommandTriggerSpec } from '../core/types.js';
import { OUTPUT_DIR_PREFIX, runProcess } from '../proc/spawn.js';
import { fireTrigger, type TriggerContext } from './index.js';

const FAKE_BIN = fileURLToPath(new URL('../../test/fixtures/triggers/bin', import.meta.url));
const tmp = realpathSync(mkdtempSync(join(tmpdir(), 'interlock-trigger-test-')));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const RUN_ID = '01JCOMMANDTRIGGERTEST00001';
const cmd = (command: string, timeout?: number, env?: string[]): CommandTriggerSpec => ({
  type: 'command',
  command,
  ...(timeout === undefined ? {} : { timeout }),
  ...(env === undefined ? {} : { env }),
});
const ctx = (extra: Partial<TriggerContext> = {}): TriggerContext => ({
  projectDir: tmp,
  pipeline: 'daily-sales-rollup',
  runId: RUN_ID,
  env: { PATH: process.env.PATH },
  ...extra,
});

let seq = 0;
const tmpFile = (name: string): string => join(tmp, `${name}-${++seq}`);
const readPids = (file: string): number[] => readFileSync(file, 'utf8').trim().split(/\s+/).map(Number);

/** Bytes this process's threads have read so far (per thread: /proc/self/io also counts reaped children). */
const bytesRead = (): number =>
  readdirSync('/proc/self/task').reduce(
    (sum, tid) => sum + Number(/^rchar: (\d+)$/m.exec(readFileSync(`/proc/self/task/${tid}/io`, 'utf8'))?.[1] ?? 0),
    0,
  );

/** Output dirs this process created in the temp dir and did not remove. */
const leftoverOutputDirs = (): string[] => readdirSync(tmpdir()).filter((n) => n.startsWith(OUTPUT_DIR_PREFIX));

const SEED_LAMBDA_RESPONSE = '\n{\n    "StatusCode": 200,\n    "ExecutedVersion": "$LATEST"\n}\n';

describe('command trigger', () => {
  // Stdout and stderr are files in a private temp dir: every outcome (ok, failed, timed out, aborted) removes it.
  afterEach(() => expect(leftoverOutputDirs()).toEqual([]));

  it('exit 0 → ok, finished (not async), with the output tails', async () => {
    const out = await fireTrigger(cmd('echo started; echo note >&2'), ctx());
    expect(out).toMatchObject({
      type: 'command',
      ok: true,
      async: false,
      exitCode: 0,
      signal: null,
      timedOut: false,
      stdoutTail: 'started\n',
      stderrTail: 'note\n',
    });
    expect(out.error).toBeUndefined();
    expect(out.durationMs).toBeGreaterThan(0);
  });

  it('exit 3 → FAILED "exit code 3", stderr kept', async () => {
    const out = await fireTrigger(cmd('echo "cannot reach warehouse" >&2; exit 3'), ctx());
    expect(out).toMatchObject({ ok: false, async: false, exitCode: 3, error: 'exit code 3' });
    expect(out.stderrTail).toContain('cannot reach warehouse');
  });

  it('killed by a signal → FAILED "killed by SIGTERM"', async () => {
    const out = await fireTrigger(cmd('kill -TERM $$; sleep 5'), ctx());
    expect(out).toMatchObject({
      ok: false,
      exitCode: null,
      signal: 'SIGTERM',
      timedOut: false,
      error: 'killed by SIGTERM',
    });
  });

  it('command not found → exit code 127 said plainly', async () => {
    const out = await fireTrigger(cmd('interlock-no-such-command --flag'), ctx());
    expect(out).toMatchObject({ ok: false, exitCode: 127, error: 'exit code 127 (command not found)' });
    expect(out.stderrTail).toMatch(/not found/);
  });

  it('timeout kills the whole group, grandchildren included, within timeout + 250 ms', async () => {
    const pidFile = tmpFile('pids');
    const t0 = performance.now();
    const out = await fireTrigger(cmd(`sleep 30 & echo "$$ $!" > ${pidFile}; sleep 30`, 0.3), ctx());
    const wall = performance.now() - t0;
    expect(out).toMatchObject({ ok: false, timedOut: true });
    expect(out.error).toMatch(/^timed out after 0\.3s \(process group killed/);
    expect(wall).toBeLessThan(300 + 250);
    const pids = readPids(pidFile);
    expect(pids).toHaveLength(2);
    await expectAllDead(pids);
  });

  it('sees INTERLOCK_RUN_ID, INTERLOCK_PIPELINE and ctx.env; runs in projectDir', async () => {
    const out = await fireTrigger(
      cmd('printf "%s|%s|%s|%s" "$INTERLOCK_RUN_ID" "$INTERLOCK_PIPELINE" "$WAREHOUSE" "$(pwd)"', undefined, [
        'WAREHOUSE',
      ]),
      ctx({ env: { PATH: process.env.PATH, WAREHOUSE: 'snowflake', INTERLOCK_RUN_ID: 'overridden?' } }),
    );
    expect(out.ok).toBe(true);
    // A variable passed through `env` is masked in the outcome like a secret.
    expect(out.stdoutTail).toBe(`${RUN_ID}|daily-sales-rollup|***|${tmp}`);
  });

  it('sees only ctx.env, never process.env (the Context carries the environment)', async () => {
    const name = `INTERLOCK_TRIGGER_TEST_${process.pid}`;
    process.env[name] = 'from-process-env';
    try {
      const env = { PATH: process.env.PATH };
      const out = await fireTrigger(cmd(`printf %s "$${name}"`, undefined, [name]), {
        projectDir: tmp,
        pipeline: 'p',
        runId: RUN_ID,
        env,
      });
      expect(out.ok).toBe(true);
      expect(out.stdoutTail).toBe('');
    } finally {
      delete process.env[name];
    }
  });

  it('a missing projectDir is a FAILED outcome that names it', async () => {
    const out = await fireTrigger(cmd('true'), ctx({ projectDir: join(tmp, 'gone') }));
    expect(out.ok).toBe(false);
    expect(out.error).toBe(`cannot start command: project directory ${join(tmp, 'gone')} does not exist`);
  });

  it('5 MB of stdout: the command keeps running to exit 0 and only a 4 KiB tail is kept (and read)', async () => {
    const marker = tmpFile('finished');
    const before = bytesRead();
    const out = await fireTrigger(
      cmd(`head -c 5242880 /dev/zero | tr '\\0' x; echo; echo LAST-LINE; touch ${marker}`, 30),
      ctx(),
    );
    expect(out).toMatchObject({ ok: true, exitCode: 0, timedOut: false });
    expect(Buffer.byteLength(out.stdoutTail!)).toBe(4096);
    expect(out.stdoutTail!.endsWith('x\nLAST-LINE\n')).toBe(true);
    // It really ran to the end (an evaluator-style cap would have killed it mid-stream).
    expect(readFileSync(marker, 'utf8')).toBe('');
    // Memory stays bounded: the output file is read from its end, never whole.
    expect(bytesRead() - before).toBeLessThan(1024 * 1024);
  });

  it('5 MB written through /dev/stdout and /dev/stderr by path: exit 0, only the tails', async () => {
    const out = await fireTrigger(
      cmd(
        `head -c 5242880 /dev/zero | tr '\\0' x > /dev/stdout; echo OUT-END; head -c 5242880 /dev/zero | tr '\\0' y > /dev/stderr; echo ERR-END >&2`,
        30,
      ),
      ctx(),
    );
    expect(out).toMatchObject({ ok: true, exitCode: 0, timedOut: false });
    expect(out.stdoutTail).toBe(`${'x'.repeat(4096 - 8)}OUT-END\n`);
    expect(out.stderrTail).toBe(`${'y'.repeat(4096 - 8)}ERR-END\n`);
  });

  it('/dev/stdout and /dev/stderr can be opened by path: `echo hi > /dev/stderr` lands in stderrTail', async () => {
    const out = await fireTrigger(cmd('echo hi > /dev/stderr; echo out > /dev/stdout; echo fd >> /dev/fd/1'), ctx());
    expect(out).toMatchObject({ ok: true, exitCode: 0, stdoutTail: 'out\nfd\n', stderrTail: 'hi\n' });
  });

  it('a grandchild keeping stdout open does not delay the outcome, and is killed with the group', async () => {
    const pidFile = tmpFile('pids');
    const t0 = performance.now();
    const out = await fireTrigger(cmd(`sleep 30 & echo "$$ $!" > ${pidFile}; echo started`), ctx());
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(out).toMatchObject({ ok: true, exitCode: 0, stdoutTail: 'started\n' });
    await expectAllDead(readPids(pidFile));
  });

  it('the output files live in a private 0700 temp dir, removed once the outcome is in', async () => {
    const out = await fireTrigger(cmd('f=$(readlink /proc/$$/fd/1); echo "$f"; stat -c %a "$(dirname "$f")"'), ctx());
    expect(out.ok).toBe(true);
    const [file, mode] = out.stdoutTail!.trim().split('\n');
    expect(file).toMatch(new RegExp(`^${tmpdir()}/${OUTPUT_DIR_PREFIX}[^/]+/stdout$`));
    expect(mode).toBe('700');
    expect(existsSync(join(file!, '..'))).toBe(false);
  });

  it('no usable temp dir → FAILED "cannot capture command output", and the command does not run', async () => {
    const marker = tmpFile('ran');
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = join(tmp, 'no-such-tmp');
    try {
      const out = await fireTrigger(cmd(`touch ${marker}`), ctx());
      expect(out.ok).toBe(false);
      expect(out.error).toMatch(/^cannot capture command output: ENOENT: no such file or directory, mkdtemp /);
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
    expect(existsSync(marker)).toBe(false);
  });

  it('ctx.signal aborts it: the group is killed and the outcome says aborted', async () => {
    const pidFile = tmpFile('pids');
    const ac = new AbortController();
    const pending = fireTrigger(cmd(`sleep 30 & echo "$$ $!" > ${pidFile}; sleep 30`), ctx({ signal: ac.signal }));
    await new Promise((r) => setTimeout(r, 150));
    const t0 = performance.now();
    ac.abort();
    const out = await pending;
    expect(performance.now() - t0).toBeLessThan(500);
    expect(out).toMatchObject({ ok: false, timedOut: false });
    expect(out.error).toMatch(/^aborted: Interlock stopped the command \(killed by SIG(TERM|KILL)\)$/);
    await expectAllDead(readPids(pidFile));
  });

  it('an already-aborted signal starts nothing', async () => {
    const marker = tmpFile('ran');
    const out = await fireTrigger(cmd(`touch ${marker}`), ctx({ signal: AbortSignal.abort() }));
    expect(out).toMatchObject({ ok: false, error: 'aborted before the command started' });
    expect(() => readFileSync(marker)).toThrow();
  });

  it('gets the minimal environment plus exactly its env list (never the API token); listed values are masked', async () => {
    const out = await fireTrigger(
      cmd('env | cut -d= -f1 | sort | tr "\\n" " "; echo; echo "warehouse=$WAREHOUSE_DSN"', undefined, [
        'WAREHOUSE_DSN',
        'INTERLOCK_API_TOKEN',
      ]),
      ctx({
        env: {
          PATH: process.env.PATH,
          HOME: '/home/x',
          LC_CTYPE: 'C',
          INTERLOCK_API_TOKEN: 'api-token-0000',
          AWS_SECRET_ACCESS_KEY: 'never-passed-aws-secret',
          WAREHOUSE_DSN: 'postgres://u:dsn-pass@db/w',
          OTHER: 'x',
        },
      }),
    );
    expect(out.ok, out.error).toBe(true);
    const [names] = (out.stdoutTail ?? '').split('\n');
    expect(
      (names ?? '')
        .trim()
        .split(' ')
        .filter((n) => n !== 'PWD' && n !== 'SHLVL' && n !== '_'),
    ).toEqual([
      'HOME',
      'INTERLOCK_PIPELINE',
      'INTERLOCK_RUN_ID',
      'INTERLOCK_RUN_KEY',
      'LC_CTYPE',
      'PATH',
      'WAREHOUSE_DSN',
    ]);
    expect(out.stdoutTail).toContain('warehouse=***');
    expect(JSON.stringify(out)).not.toContain('dsn-pass');
  });

  it('redacts the values of secret-looking env vars from both tails, even across the tail cut', async () => {
    const secret = 'sk-live-0123456789abcdef';
    const out = await fireTrigger(
      cmd(
        `echo "using $MY_API_TOKEN"; echo "db=$DB_PASSWORD" >&2; printf %s "$MY_API_TOKEN"; head -c 4080 /dev/zero | tr '\\0' y; exit 1`,
        undefined,
        ['MY_API_TOKEN', 'DB_PASSWORD', 'SHORT_KEY'],
      ),
      ctx({ env: { PATH: process.env.PATH, MY_API_TOKEN: secret, DB_PASSWORD: 'pa55word!', SHORT_KEY: 'abc' } }),
    );
    expect(out.ok).toBe(false);
    expect(out.stderrTail).toBe('db=***\n');
    const serialized = JSON.stringify(out);
    expect(serialized).not.toContain(secret);
    expect(serialized).not.toContain(secret.slice(-12));
    expect(out.stdoutTail!.endsWith('y')).toBe(true);
  });

  it('redacts secrets the command writes through /dev/stdout and /dev/stderr by path', async () => {
    const secret = 'AKIAFAKESECRET0123456789';
    const out = await fireTrigger(
      cmd(
        'echo "key=$AWS_SECRET_ACCESS_KEY" > /dev/stdout; echo "{\\"k\\":\\"$AWS_SECRET_ACCESS_KEY\\"}" > /dev/stderr',
        undefined,
        ['AWS_SECRET_ACCESS_KEY'],
      ),
      ctx({ env: { PATH: process.env.PATH, AWS_SECRET_ACCESS_KEY: secret } }),
    );
    expect(out).toMatchObject({ ok: true, stdoutTail: 'key=***\n', stderrTail: '{"k":"***"}\n' });
    expect(JSON.stringify(out)).not.toContain(secret);
  });

  it('the seed Lambda-via-CLI command, exactly as written, succeeds and shows the payload and the response', async () => {
    const log = tmpFile('aws-argv');
    const out = await fireTrigger(
      cmd('aws lambda invoke --function-name my-pipeline-fn /dev/stdout', undefined, ['FAKE_AWS_LOG']),
      ctx({ env: { PATH: `${FAKE_BIN}:${process.env.PATH}`, FAKE_AWS_LOG: log } }),
    );
    // The function was invoked once, with exactly the seed's arguments and the run id in its environment…
    expect(readFileSync(log, 'utf8')).toBe(
      ['lambda', 'invoke', '--function-name', 'my-pipeline-fn', '/dev/stdout', `-- run=${RUN_ID}`, ''].join('\n'),
    );
    // …then the CLI opened /dev/stdout by path (a real file now) for the payload and printed the response after it.
    expect(out).toMatchObject({ ok: true, exitCode: 0, signal: null, timedOut: false, stderrTail: '' });
    expect(out.error).toBeUndefined();
    expect(out.stdoutTail).toBe(`{"function":"my-pipeline-fn","ok":true}${SEED_LAMBDA_RESPONSE}`);
  });

  it('the fake aws is faithful: under the default socketpair stdio its /dev/stdout outfile fails with 255', async () => {
    // What the command trigger used to get (and the real CLI does): the call happens, the outfile open fails.
    const log = tmpFile('aws-argv');
    const r = await runProcess({
      file: '/bin/sh',
      args: ['-c', 'aws lambda invoke --function-name my-pipeline-fn /dev/stdout'],
      cwd: tmp,
      env: { PATH: `${FAKE_BIN}:${process.env.PATH}`, FAKE_AWS_LOG: log },
      timeoutMs: 10_000,
      maxStdoutBytes: 4096,
    });
    expect(r).toMatchObject({ exitCode: 255, stdout: '' });
    expect(r.stderrTail).toBe("\n[Errno 6] No such device or address: '/dev/stdout'\n");
    expect(readFileSync(log, 'utf8')).toContain('my-pipeline-fn\n/dev/stdout\n');
  });

  it('an aws outfile that cannot be opened fails the trigger with exit code 255, after the call', async () => {
    const log = tmpFile('aws-argv');
    const out = await fireTrigger(
      cmd('aws lambda invoke --function-name my-pipeline-fn no-such-dir/out.json', undefined, ['FAKE_AWS_LOG']),
      ctx({ env: { PATH: `${FAKE_BIN}:${process.env.PATH}`, FAKE_AWS_LOG: log } }),
    );
    expect(out).toMatchObject({ ok: false, exitCode: 255, error: 'exit code 255', stdoutTail: '' });
    expect(out.stderrTail).toBe("\n[Errno 2] Directory nonexistent: 'no-such-dir/out.json'\n");
    expect(readFileSync(log, 'utf8')).toContain('my-pipeline-fn\nno-such-dir/out.json\n');
  });

  it('the Lambda-via-CLI command with a file outfile succeeds and its payload can be echoed with cat', async () => {
    const log = tmpFile('aws-argv');
    const out = await fireTrigger(
      cmd(
        'aws lambda invoke --function-name my-pipeline-fn "lambda-$INTERLOCK_RUN_ID.json" && cat "lambda-$INTERLOCK_RUN_ID.json"',
        undefined,
        ['FAKE_AWS_LOG'],
      ),
      ctx({ env: { PATH: `${FAKE_BIN}:${process.env.PATH}`, FAKE_AWS_LOG: log } }),
    );
    expect(out).toMatchObject({ ok: true, exitCode: 0 });
    expect(readFileSync(log, 'utf8')).toContain(`my-pipeline-fn\nlambda-${RUN_ID}.json\n-- run=${RUN_ID}\n`);
    expect(out.stdoutTail).toContain('"StatusCode": 200');
    expect(out.stdoutTail!.endsWith('{"function":"my-pipeline-fn","ok":true}')).toBe(true);
    expect(readFileSync(join(tmp, `lambda-${RUN_ID}.json`), 'utf8')).toBe('{"function":"my-pipeline-fn","ok":true}');
  });

  it('an aws CLI usage error fails the trigger with its exit code', async () => {
    const out = await fireTrigger(
      cmd('aws lambda invoke my-pipeline-fn'),
      ctx({ env: { PATH: `${FAKE_BIN}:${process.env.PATH}` } }),
    );
    expect(out).toMatchObject({ ok: false, exitCode: 252, error: 'exit code 252' });
    expect(out.stderrTail).toContain('required: --function-name');
  });
});

describe("runProcess stdoutMode 'tail' and signal (the options command triggers use)", () => {
  const base = { file: '/bin/sh', cwd: tmp, env: { PATH: process.env.PATH }, timeoutMs: 10_000 };

  it('keeps the last maxStdoutBytes, flags the drop, and does not kill', async () => {
    const r = await runProcess({
      ...base,
      args: ['-c', 'seq 1 100000; echo END'],
      maxStdoutBytes: 12,
      stdoutMode: 'tail',
    });
    expect(r).toMatchObject({
      exitCode: 0,
      signal: null,
      stdout: '99999\n100000\nEND\n'.slice(-12),
      stdoutOverflow: true,
    });
  });

  it('does not flag output that fits', async () => {
    const r = await runProcess({ ...base, args: ['-c', 'printf 12345'], maxStdoutBytes: 5, stdoutMode: 'tail' });
    expect(r).toMatchObject({ stdout: '12345', stdoutOverflow: false });
    expect(r.aborted).toBeUndefined();
  });

  it('an abort kills the group and sets aborted', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const r = await runProcess({ ...base, args: ['-c', 'sleep 30'], maxStdoutBytes: 10, signal: ac.signal });
    expect(r).toMatchObject({ aborted: true, timedOut: false, signal: 'SIGTERM' });
    expect(r.durationMs).toBeLessThan(1000);
  });
});
