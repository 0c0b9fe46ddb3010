/**
 * Turns a byte stream (a child's stdout/stderr or its control socket) into whole lines. A partial last line is
 * kept until its newline arrives, and a runaway line without any newline is cut at `maxLineLength` so a
 * misbehaving app cannot make the supervisor buffer without bound.
 */
export class LineSplitter {
  private pending = '';

  constructor(private readonly maxLineLength = 1 << 20) {}

  /** Feeds a chunk, returns the complete lines it finished (without their line endings). */
  push(chunk: Buffer | string): string[] {
    const text = this.pending + chunk.toString();
    const parts = text.split(/\r?\n/);
    this.pending = parts.pop() ?? '';
    if (this.pending.length > this.maxLineLength) {
      parts.push(this.pending);
      this.pending = '';
    }
    return parts;
  }

  /** Returns what is left when the stream ends (the last line may have no newline). */
  flush(): string[] {
    const rest = this.pending;
    this.pending = '';
    return rest ? [rest] : [];
  }
}
