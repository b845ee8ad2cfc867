// What a project's trigger and alert sinks leave behind for a test to count: a command trigger that appends its run
// id to fired.log, and readers of fired.log and of the alert file sink ./alerts.log.
import { lines } from './files.js';

/** A command trigger that appends its run id to fired.log: one line per trigger execution. */
export const RECORD_TRIGGER = 'trigger:\n  type: command\n  command: "echo $INTERLOCK_RUN_ID >> fired.log"\n';

/** Run ids the trigger recorded: the lines of fired.log (one per trigger execution; [] before the first). */
export function fired(root: string): string[] {
  return lines(root, 'fired.log');
}

/** The entries of the alert file sink ./alerts.log (one JSON object a line). */
export function alerts(root: string): Array<{ kind: string; runId?: string }> {
  return lines(root, 'alerts.log').map((l) => JSON.parse(l) as { kind: string });
}
