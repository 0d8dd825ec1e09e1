import { describe, expect, it } from 'vitest';
import { checkJsonDepth, MAX_JSON_DEPTH, nestsDeeperThan } from '../../src/server/json-depth.js';

describe('nestsDeeperThan', () => {
  it('counts arrays and objects alike', () => {
    expect(nestsDeeperThan('{"a":[{"b":[1]}]}', 4)).toBe(false);
    expect(nestsDeeperThan('{"a":[{"b":[1]}]}', 3)).toBe(true);
    expect(nestsDeeperThan('[[],[],[[]]]', 3)).toBe(false);
    expect(nestsDeeperThan('[[],[],[[]]]', 2)).toBe(true);
    expect(nestsDeeperThan('"plain"', 0)).toBe(false);
    expect(nestsDeeperThan('', 0)).toBe(false);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    expect(nestsDeeperThan('{"a":"[[[[{{{{"}', 1)).toBe(false);
    expect(nestsDeeperThan('{"a":"\\"[[[[\\"{{"}', 1)).toBe(false);
    // An escaped backslash ends the string; the brackets after it count.
    expect(nestsDeeperThan('{"a":"\\\\","b":[[1]]}', 2)).toBe(true);
    expect(nestsDeeperThan('{"[[[":{"]]]":"}}}"}}', 2)).toBe(false);
  });

  it('agrees with the real depth on random JSON', () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed >>> 16;
    };
    const build = (depth: number): [unknown, number] => {
      if (depth === 0 || random() % 4 === 0) return [random() % 2 === 0 ? 'x"[{\\' : 1, 0];
      const children = Array.from({ length: (random() % 3) + 1 }, () => build(depth - 1));
      const deepest = 1 + Math.max(...children.map(([, d]) => d));
      return random() % 2 === 0
        ? [children.map(([v]) => v), deepest]
        : [Object.fromEntries(children.map(([v], i) => [`k${i}[`, v])), deepest];
    };
    for (let i = 0; i < 300; i++) {
      const [value, depth] = build(12);
      const text = JSON.stringify(value);
      expect(nestsDeeperThan(text, depth)).toBe(false);
      if (depth > 0) expect(nestsDeeperThan(text, depth - 1)).toBe(true);
    }
  });

  it('checkJsonDepth names the limit', () => {
    expect(checkJsonDepth('[1]')).toBeUndefined();
    const error = checkJsonDepth('['.repeat(MAX_JSON_DEPTH + 1));
    expect(error?.status).toBe(400);
    expect(error?.message).toContain(`nesting limit is ${MAX_JSON_DEPTH}`);
  });
});
