// Keeping secrets out of trigger outcomes: redaction, secret-looking names, byte-bounded cuts.

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

/** A value as it may appear in text: raw, percent-encoded (URLs, Location headers) and JSON-escaped (echoed JSON). */
export function secretForms(value: string): string[] {
  const forms = [value];
  try {
    forms.push(encodeURIComponent(value));
  } catch {
    // Lone surrogates cannot be percent-encoded; the raw form is still masked.
  }
  forms.push(JSON.stringify(value).slice(1, -1));
  return forms.filter((f) => f.length >= MIN_SECRET_LENGTH);
}

/** Values of `env` entries whose name looks secret, in every form `secretForms` gives. */
export function secretEnvValues(env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(env)) {
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
