// ${NAME} templates: references and single-pass expansion.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} placeholders are the subject under test.
import { describe, expect, it } from 'vitest';
import { expandTemplate, isMissing, missingVarsMessage, templateVars } from './template.js';

describe('templates', () => {
  it('finds ${NAME} references once each, in order', () => {
    expect(templateVars('${B}/${a_1}/${B}/$C/${9X}/${D-E}')).toEqual(['B', 'a_1']);
  });

  it('expands in one pass: a value that looks like a template stays as it is', () => {
    expect(expandTemplate('x=${A} y=${B}', { A: '${B}', B: 'b' })).toBe('x=${B} y=b');
  });

  it('leaves everything that is not ${NAME} alone', () => {
    expect(expandTemplate('$A $$ ${} ${A:-d} \\${A}', { A: 'v' })).toBe('$A $$ ${} ${A:-d} \\v');
  });

  it('treats unset and empty alike', () => {
    expect(isMissing({ A: '' }, 'A')).toBe(true);
    expect(isMissing({}, 'A')).toBe(true);
    expect(isMissing({ A: ' ' }, 'A')).toBe(false);
  });

  it('says which variables are not set, and which are empty', () => {
    expect(missingVarsMessage(['A'], {})).toBe('environment variable A is not set');
    expect(missingVarsMessage(['A', 'B'], { B: '' })).toBe(
      'environment variable A is not set; environment variable B is empty',
    );
  });
});
