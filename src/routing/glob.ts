// Model-name globs: `*` matches any run of characters (including none); everything else is literal.

export interface CompiledGlob {
  pattern: string;
  regex: RegExp;
}

export function compileGlob(pattern: string): CompiledGlob {
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('(.*?)');
  // Anchored on both ends; the last group is made greedy by the `$` anchor.
  return { pattern, regex: new RegExp(`^${source}$`, 's') };
}

/** The texts each `*` matched, or undefined when the name does not match. */
export function matchGlob(glob: CompiledGlob, name: string): string[] | undefined {
  const match = glob.regex.exec(name);
  return match === null ? undefined : match.slice(1);
}

/** Puts the captured texts into the `*`s of a template, in order; extra `*`s take the last capture. */
export function fillGlob(template: string, captures: string[]): string {
  if (!template.includes('*') || captures.length === 0) return template;
  let index = 0;
  return template.replace(/\*/g, () => {
    const value = captures[Math.min(index, captures.length - 1)] ?? '';
    index += 1;
    return value;
  });
}
