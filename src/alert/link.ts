// Where an alert links to when server.publicUrl is set: the pipeline's "why hasn't it run?" view.
import type { Alert } from '../core/types.js';

/** `<publicUrl>/api/pipelines/<pipeline>/why` (with `?window=<key>` when the alert concerns a window). */
export function dashboardLink(publicUrl: string, alert: Pick<Alert, 'pipeline' | 'window'>): string {
  const base = publicUrl.replace(/\/+$/, '');
  const query = alert.window !== undefined ? `?window=${encodeURIComponent(alert.window)}` : '';
  return `${base}/api/pipelines/${encodeURIComponent(alert.pipeline)}/why${query}`;
}
