// The one "start a server and wait for `listening on`" of the harness: resolves with the URL, rejects (with what the
// process said) when it exits first or never listens, and stops by pid.
import { describe, expect, it } from 'vitest';
import { isAlive, waitDead } from './processes.js';
import { ServerProcess } from './server-process.js';

const LISTEN =
  "require('http').createServer((q,s)=>s.end('hi')).listen(0,'127.0.0.1',function(){console.error('listening on http://127.0.0.1:'+this.address().port)})";
const opts = { cwd: process.cwd(), env: { ...process.env } };

describe('ServerProcess', () => {
  it('resolves with the URL it printed; the server answers there; stop() ends it by SIGTERM', async () => {
    const s = await ServerProcess.start(process.execPath, ['-e', LISTEN], opts);
    expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(s.stderr()).toMatch(/^listening on http:/);
    expect(s.startMs).toBeGreaterThan(0);
    expect(await (await fetch(s.url)).text()).toBe('hi');
    expect(await s.stop()).toEqual({ code: null, signal: 'SIGTERM' });
    expect(isAlive(s.pid)).toBe(false);
  });

  it('rejects with its output when the process exits before listening', async () => {
    await expect(
      ServerProcess.start(process.execPath, ['-e', "console.error('no config here'); process.exit(2)"], opts),
    ).rejects.toThrow(/exited \(2\) before listening:\nno config here/);
  });

  it('kills the process and rejects when it does not listen in time', async () => {
    let pid: number | undefined;
    const started = ServerProcess.start(
      process.execPath,
      ['-e', 'console.log(process.pid); setInterval(() => {}, 1000)'],
      {
        ...opts,
        timeoutMs: 1500,
      },
    );
    await expect(started).rejects.toThrow(/did not listen within 1500 ms:\n(\d+)/);
    await started.catch((e: Error) => {
      pid = Number(/:\n(\d+)/.exec(e.message)?.[1]);
    });
    expect(pid).toBeGreaterThan(0);
    expect(await waitDead(pid as number, 2000)).toBe(true);
  });
});
