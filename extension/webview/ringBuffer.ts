/**
 * Fixed-capacity history: the panel may stay open for hours at 2 points/s, so each series keeps only the last
 * `capacity` points (older ones are overwritten, no array growth, no GC churn).
 */
export class RingBuffer<T> {
  private readonly items: (T | undefined)[];
  private start = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!(capacity > 0)) throw new Error('RingBuffer capacity must be positive');
    this.items = new Array<T | undefined>(capacity);
  }

  push(item: T): void {
    const index = (this.start + this.count) % this.capacity;
    this.items[index] = item;
    if (this.count < this.capacity) this.count++;
    else this.start = (this.start + 1) % this.capacity;
  }

  get length(): number {
    return this.count;
  }

  /** Oldest first. */
  toArray(): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.count; i++) out.push(this.items[(this.start + i) % this.capacity] as T);
    return out;
  }

  last(): T | undefined {
    return this.count ? this.items[(this.start + this.count - 1) % this.capacity] : undefined;
  }

  clear(): void {
    this.start = 0;
    this.count = 0;
    this.items.fill(undefined);
  }
}
