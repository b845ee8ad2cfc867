// Keeping secrets out of trigger outcomes: redaction, secret-looking names, byte-bounded cuts.

import { INTERLOCK_PROVIDED_VARS } from '../core/run-vars.js';

/** Values shorter than this are not redacted: masking "1" or "abc" everywhere would garble text and hide nothing. */
export const MIN_SECRET_LENGTH = 4;

/** Env var names whose values are treated as secrets in command output. */
export const SECRET_NAME_RE = /TOKEN|SECRET|PASSWORD|PASSWD|KEY|CREDENTIAL/i;

/** Header names whose values are credentials (redacted from response excerpts and errors). */
const SECRET_HEADER_RE = /auth|cookie|token|secret|passw|key|credential|signature/i;

/**
 * Replaces every occurrence of each secret (length ≥ 4) in `text` with `***`.
 * Longer secrets go first so one secret containing another is masked whole.
 */
export function redact(text: string, secrets: Iterable<string>): string {
  const list = [...new Set(secrets)].filter((s) => s.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length);
  let out = text;
  for (const s of list) if (out.includes(s)) out = out.split(s).join('***');
  return out;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** `value` HTML-escaped, with each of the spellings servers commonly use for quotes. */
function htmlForms(value: string): string[] {
  const named = value.replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch] as string);
  return [
    named,
    named.replace(/&#39;/g, '&#x27;'),
    named.replace(/&#39;/g, '&apos;'),
    named.replace(/&quot;/g, '&#34;'),
  ];
}

/** `\uXXXX` for every non-ASCII UTF-16 unit (Python's json.dumps default), in lower- and upper-case hex. */
function asciiJsonForms(json: string): string[] {
  const esc = (upper: boolean) =>
    json.replace(/[\u0080-\uffff]/g, (ch) => {
      const hex = (ch.charCodeAt(0) as number).toString(16).padStart(4, '0');
      return `\\u${upper ? hex.toUpperCase() : hex}`;
    });
  return [esc(false), esc(true)];
}

/**
 * A value as it may come back in a response: raw; percent-encoded (upper- and lower-case hex, `+` for spaces, and
 * encodeURI's lighter form); JSON-escaped (also with `\/` and with non-ASCII as `\uXXXX`); HTML-escaped; and, for
 * non-ASCII values, the two mis-decodings of a byte echo (Latin-1 bytes read as UTF-8, as fetch reads a status text,
 * and UTF-8 bytes read as Latin-1). Forms shorter than `minLength` are dropped.
 */
export function secretForms(value: string, minLength = MIN_SECRET_LENGTH): string[] {
  const forms = new Set<string>([value]);
  const add = (make: () => string | string[]) => {
    try {
      const made = make();
      for (const f of Array.isArray(made) ? made : [made]) forms.add(f);
    } catch {
      // Lone surrogates cannot be percent-encoded; the other forms are still masked.
    }
  };
  add(() => {
    const pct = encodeURIComponent(value);
    return [pct, pct.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()), pct.replace(/%20/g, '+'), encodeURI(value)];
  });
  const json = JSON.stringify(value).slice(1, -1);
  for (const j of [json, ...asciiJsonForms(json)]) {
    forms.add(j);
    forms.add(j.replace(/\//g, '\\/'));
  }
  for (const h of htmlForms(value)) forms.add(h);
  const codes = [...value].map((ch) => ch.codePointAt(0) as number);
  if (codes.some((c) => c > 0x7f)) {
    add(() => Buffer.from(value, 'utf8').toString('latin1'));
    if (codes.every((c) => c <= 0xff)) add(() => Buffer.from(value, 'latin1').toString('utf8'));
  }
  return [...forms].filter((f) => f.length >= minLength);
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Masks each of `values` (any length ≥ 1) where it stands as a whole token: not touching a letter or digit on either
 * side. For secrets too short to mask everywhere ("ab" inside "about" stays), which are still secrets when they are
 * a header's whole value and come back in an echo ("invalid key ab").
 */
export function redactWhole(text: string, values: Iterable<string>): string {
  const list = [...new Set(values)].filter((v) => v.length > 0).sort((a, b) => b.length - a.length);
  let out = text;
  for (const v of list) {
    if (!out.includes(v)) continue;
    out = out.replace(new RegExp(`(?<![A-Za-z0-9])${escapeRegExp(v)}(?![A-Za-z0-9])`, 'g'), '***');
  }
  return out;
}

/** Values of `env` entries whose name looks secret, in every form `secretForms` gives. */
export function secretEnvValues(env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    // Interlock's own variables (INTERLOCK_RUN_KEY has KEY in its name) are identifiers, not secrets.
    if (INTERLOCK_PROVIDED_VARS.includes(name)) continue;
    if (value !== undefined && value.length >= MIN_SECRET_LENGTH && SECRET_NAME_RE.test(name))
      out.push(...secretForms(value));
  }
  return out;
}

/** For a credential header: its whole value and, for "Scheme credentials", the credentials alone. */
export function secretHeaderValues(name: string, value: string): string[] {
  if (!SECRET_HEADER_RE.test(name)) return [];
  const out = secretForms(value);
  const space = value.indexOf(' ');
  if (space > 0) out.push(...secretForms(value.slice(space + 1).trim()));
  return out;
}

/** `${VAR}` or `Scheme ${VAR}` as a header's whole template. */
const ONE_VAR_HEADER = /^\s*(?:[A-Za-z][A-Za-z0-9._-]*\s+)?\$\{[A-Za-z_][A-Za-z0-9_]*\}\s*$/;

/**
 * Secrets of any length (≥ 1) that a header carries whole, in every form, for `redactWhole`: the value (and the
 * credentials after a scheme) of a credential header, or of any header whose template is one `${VAR}`.
 */
export function wholeHeaderSecrets(name: string, template: string, value: string): string[] {
  if (!SECRET_HEADER_RE.test(name) && !ONE_VAR_HEADER.test(template)) return [];
  const whole = value.trim();
  const space = whole.indexOf(' ');
  const parts = space > 0 ? [whole, whole.slice(space + 1).trim()] : [whole];
  return parts.filter((p) => p !== '').flatMap((p) => secretForms(p, 1));
}

/** Query/form parameter and JSON key names whose values are credentials. */
const SECRET_PARAM_RE = /auth|cookie|token|secret|passw|pwd|key|credential|signature|^sig$|session|jwt/i;
/** A value that is nothing but `${VAR}` references (a placeholder, not a secret). */
const ONLY_VARS_RE = /^(?:\s*\$\{[A-Za-z_][A-Za-z0-9_]*\}\s*)+$/;

/**
 * Masks literal credentials written into a URL or a request body: the value of every query/form parameter
 * (`?token=…`, `&api_key=…`) and JSON member (`"password": "…"` or a number) whose name looks secret. Values that are
 * only `${VAR}` references stay (they are placeholders). For showing a spec, not for trigger outcomes.
 */
export function redactCredentialParams(text: string): string {
  const keep = (v: string) => v === '' || ONLY_VARS_RE.test(v);
  return text
    .replace(/([?&;]|^)([^=&?#;\s"]+)=([^&#;\s"]*)/g, (m, sep: string, name: string, value: string) => {
      let decoded = name;
      try {
        decoded = decodeURIComponent(name);
      } catch {
        // Keep the name as written.
      }
      return SECRET_PARAM_RE.test(decoded) && !keep(value) ? `${sep}${name}=***` : m;
    })
    .replace(
      /"((?:[^"\\]|\\.)*)"(\s*:\s*)("(?:[^"\\]|\\.)*"|-?\d[\d.eE+-]*)/g,
      (m, name: string, colon: string, value: string) => {
        const inner = value.startsWith('"') ? value.slice(1, -1) : value;
        return SECRET_PARAM_RE.test(name) && !keep(inner) ? `"${name}"${colon}"***"` : m;
      },
    );
}

/** Masks the password of `scheme://user:password@host` in a URL template (literal credentials in config). */
export function redactUrlUserinfo(url: string): string {
  return url.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#@:]*):[^/?#@]*@/, '$1:***@');
}

/** The first `max` bytes of `text` as UTF-8, not cutting a character in half. */
export function firstBytes(text: string, max: number): string {
  const buf = Buffer.from(text, 'utf8');
  if (buf.length <= max) return text;
  let end = max;
  // Step back over continuation bytes so the cut falls on a character boundary.
  while (end > 0 && ((buf[end] as number) & 0xc0) === 0x80) end--;
  return buf.subarray(0, end).toString('utf8');
}

/** The last `max` bytes of `text` as UTF-8, not cutting a character in half. */
export function lastBytes(text: string, max: number): string {
  const buf = Buffer.from(text, 'utf8');
  if (buf.length <= max) return text;
  let start = buf.length - max;
  while (start < buf.length && ((buf[start] as number) & 0xc0) === 0x80) start++;
  return buf.subarray(start).toString('utf8');
}
