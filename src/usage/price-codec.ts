// A Price as bytes, for the record batches the log writer thread reads (logs/record-batch.ts):
// the thread works out a stream's cost from its usage, so every rate and tier must reach it.
//
// Layout (little-endian): rates, then u8 tier count, then per tier f64 `above` and its rates.
// Rates: u8 mask of the optional rates present (1 cache read, 2 cache write, 4 reasoning),
// f64 prompt per 1k, f64 completion per 1k, then the optional ones present, in that order.
import type { Price, PriceRates, PriceTier } from '../config/types.js';
import type { ByteBuffer } from '../logs/byte-buffer.js';

const OPTIONAL = ['cacheRead1k', 'cacheWrite1k', 'reasoning1k'] as const;

function writeRates(out: ByteBuffer, rates: PriceRates): void {
  let mask = 0;
  OPTIONAL.forEach((field, bit) => {
    if (rates[field] !== undefined) mask |= 1 << bit;
  });
  out.byte(mask);
  out.f64(rates.prompt1k);
  out.f64(rates.completion1k);
  for (const field of OPTIONAL) {
    const rate = rates[field];
    if (rate !== undefined) out.f64(rate);
  }
}

export function writePrice(out: ByteBuffer, price: Price): void {
  writeRates(out, price);
  const tiers = price.tiers ?? [];
  if (tiers.length > 255) throw new RangeError(`a price has ${tiers.length} tiers; at most 255 are kept`);
  out.byte(tiers.length);
  for (const tier of tiers) {
    out.f64(tier.above);
    writeRates(out, tier);
  }
}

/** Reads what writePrice wrote at `at`; `end` is where the next field starts. */
export function readPrice(buf: Buffer, at: number): { price: Price; end: number } {
  let pos = at;
  const f64 = (): number => {
    const value = buf.readDoubleLE(pos);
    pos += 8;
    return value;
  };
  const rates = (): PriceRates => {
    const mask = buf.readUInt8(pos);
    pos += 1;
    const read: PriceRates = { prompt1k: f64(), completion1k: f64() };
    OPTIONAL.forEach((field, bit) => {
      if ((mask & (1 << bit)) !== 0) read[field] = f64();
    });
    return read;
  };
  const price: Price = rates();
  const count = buf.readUInt8(pos);
  pos += 1;
  if (count > 0) {
    const tiers: PriceTier[] = [];
    for (let i = 0; i < count; i++) {
      const above = f64();
      tiers.push({ above, ...rates() });
    }
    price.tiers = tiers;
  }
  return { price, end: pos };
}
