// The file sink: JSON Lines appended with one O_APPEND write per alert, whole lines under real multi-process load.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { alertPayload, makeAlert } from './alert.js';
import { AlertDispatcher } from './dispatcher.js';
import { FileSink } from './file-sink.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const TSX = path.resolve(HERE, '..', '..', 'node_modules', '.bin', 'tsx');
const NOW = Date.UTC(2025, 0, 6, 6, 2, 0);

const made: string[] = [];
afterEach(() => {
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'interlock-alert-'));
  made.push(d);
  return d;
}

const readLines = (file: string) => fs.readFileSync(file, 'utf8').split('\n');

describe('file sink', () => {
  it('appends one JSON line per alert, in send order, after what the file already holds', async () => {
    const file = path.join(tmp(), 'alerts.jsonl');
    fs.writeFileSync(file, '{"earlier":true}\n');
    const sink = new FileSink(file);
    const alerts = Array.from({ length: 50 }, (_, i) =>
      makeAlert('TRAIT_FAILED', { pipeline: 'p', trait: `t${i}`, message: `line one\nline two ${i}` }, NOW + i),
    );
    await Promise.all(alerts.map((a) => sink.send(a))); // all at once: the sink keeps them in order
    const lines = readLines(file);
    expect(lines.at(-1)).toBe('');
    expect(lines[0]).toBe('{"earlier":true}');
    expect(lines.slice(1, -1).map((l) => JSON.parse(l))).toEqual(alerts.map(alertPayload));
  });

  it('rejects when the directory is missing, and the dispatcher reports it', async () => {
    const file = path.join(tmp(), 'gone', 'alerts.jsonl');
    const sink = new FileSink(file);
    const a = makeAlert('RUN_FAILED', { pipeline: 'p', message: 'm' }, NOW);
    await expect(sink.send(a)).rejects.toMatchObject({ code: 'ENOENT' });
    const errors: string[] = [];
    await new AlertDispatcher([sink], { onError: (name) => errors.push(name) }).dispatch([a]);
    expect(errors).toEqual([`file ${file}`]);
    // A failed send does not wedge the queue for the next one.
    fs.mkdirSync(path.dirname(file));
    await sink.send(a);
    expect(readLines(file)).toHaveLength(2);
  });

  it('8 processes × 200 concurrent alerts of varied size: every line whole, none lost or doubled', async () => {
    const dir = tmp();
    const file = path.join(dir, 'alerts.jsonl');
    const script = path.join(dir, 'append.mts');
    // Each child: 4 FileSink instances on the same file (so writes race inside the process too), waits for "go"
    // on stdin so all 8 start together, then sends its 200 alerts at once.
    fs.writeFileSync(
      script,
      `import { FileSink } from ${JSON.stringify(pathToFileURL(path.join(HERE, 'file-sink.ts')).href)};
import { makeAlert } from ${JSON.stringify(pathToFileURL(path.join(HERE, 'alert.ts')).href)};
const [file, proc] = process.argv.slice(2);
const sinks = [0, 1, 2, 3].map(() => new FileSink(file));
process.stdout.write('ready\\n');
process.stdin.once('data', async () => {
  await Promise.all(
    Array.from({ length: 200 }, (_, i) => {
      const pad = String.fromCharCode(97 + (i % 26)).repeat(500 + ((i * 997) % 12000));
      const a = makeAlert('TRAIT_FAILED', { pipeline: 'p', runId: proc + '-' + i, message: 'm', details: { pad } }, 0);
      return sinks[i % 4].send(a);
    }),
  );
  process.exit(0);
});
`,
    );
    const children = Array.from({ length: 8 }, (_, proc) =>
      spawn(TSX, [script, file, String(proc)], { stdio: ['pipe', 'pipe', 'inherit'] }),
    );
    const exits = children.map((c) => new Promise<number | null>((resolve) => c.on('exit', (code) => resolve(code))));
    await Promise.all(children.map((c) => new Promise<void>((resolve) => c.stdout.once('data', () => resolve()))));
    for (const c of children) c.stdin.write('go\n');
    expect(await Promise.all(exits)).toEqual(Array(8).fill(0));

    const lines = readLines(file);
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(8 * 200);
    const seen = new Set<string>();
    for (const line of lines) {
      const p = JSON.parse(line) as { runId: string; details: { pad: string } };
      const i = Number(p.runId.split('-')[1]);
      expect(p.details.pad).toBe(String.fromCharCode(97 + (i % 26)).repeat(500 + ((i * 997) % 12000)));
      seen.add(p.runId);
    }
    expect(seen.size).toBe(8 * 200);
  }, 60_000);
});
