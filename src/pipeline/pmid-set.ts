/**
 * A set of PMIDs in one bit each. PMIDs are dense positive integers (about 40 million today), so
 * a bitmap remembers every PMID of a 10-million-line input in a few megabytes, where a Set of
 * numbers would take hundreds.
 */
export class PmidSet {
  private bits = new Uint8Array(1 << 16);

  /** Adds `pmid`; true when it was not in the set yet. */
  add(pmid: number): boolean {
    const byte = pmid >>> 3;
    if (byte >= this.bits.length) this.grow(byte);
    const mask = 1 << (pmid & 7);
    if ((this.bits[byte]! & mask) !== 0) return false;
    this.bits[byte]! |= mask;
    return true;
  }

  has(pmid: number): boolean {
    const byte = pmid >>> 3;
    return byte < this.bits.length && (this.bits[byte]! & (1 << (pmid & 7))) !== 0;
  }

  private grow(byte: number): void {
    let size = this.bits.length;
    while (size <= byte) size *= 2;
    const bigger = new Uint8Array(size);
    bigger.set(this.bits);
    this.bits = bigger;
  }
}
