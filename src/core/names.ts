// Naming rules for pipelines, archetypes and trait types.

/** `[a-z0-9][a-z0-9._-]*`, at most 128 characters. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]*$/;
export const NAME_MAX = 128;

export function isValidName(s: string): boolean {
  return s.length <= NAME_MAX && NAME_PATTERN.test(s);
}
