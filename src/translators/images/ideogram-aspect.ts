// OpenAI's `size` ("WxH") → the nearest of Ideogram's aspect ratios. Ideogram 3.0 and the legacy
// endpoint accept different lists, written differently ("16x9" and "ASPECT_16_9").
import { GatewayError } from '../../errors.js';

/** Ideogram 3.0's `aspect_ratio` values (wire-formats §6.2). */
export const V3_ASPECT_RATIOS = [
  '1x3',
  '3x1',
  '1x2',
  '2x1',
  '9x16',
  '16x9',
  '10x16',
  '16x10',
  '2x3',
  '3x2',
  '3x4',
  '4x3',
  '4x5',
  '5x4',
  '1x1',
] as const;

/** The legacy `/generate` endpoint's ratios, as "WxH"; sent as `ASPECT_W_H`. */
export const LEGACY_ASPECT_RATIOS = [
  '1x3',
  '3x1',
  '9x16',
  '16x9',
  '10x16',
  '16x10',
  '2x3',
  '3x2',
  '3x4',
  '4x3',
  '1x1',
] as const;

/**
 * "WxH" (or "W:H") → the nearest ratio of `ratios`, by ratio on a log scale so that 2:1 and 1:2
 * are equally far from 1:1. Ideogram's exact resolution list is not public in full, so a size is
 * always sent as an aspect ratio: 1792x1024 → 16x9, 1024x1792 → 9x16, 1024x1024 → 1x1.
 * `auto` leaves Ideogram's default.
 */
export function nearestAspectRatio(size: string, ratios: readonly string[]): string | undefined {
  if (size === 'auto') return undefined;
  const match = /^([1-9]\d*)[x:]([1-9]\d*)$/.exec(size);
  if (match === null) {
    throw new GatewayError(
      'invalid_request',
      `Invalid value for 'size': expected "WIDTHxHEIGHT" or "auto".`,
      {
        param: 'size',
      },
    );
  }
  const wanted = Math.log(Number(match[1]) / Number(match[2]));
  let best = ratios[0];
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const ratio of ratios) {
    const [w, h] = ratio.split('x').map(Number) as [number, number];
    const distance = Math.abs(Math.log(w / h) - wanted);
    if (distance < bestDistance) {
      best = ratio;
      bestDistance = distance;
    }
  }
  return best;
}
