// A progress bar on stderr for long imports: redrawn in place on a terminal, one line per 10% otherwise.
export class ProgressBar {
  private done = 0;
  private lastDraw = 0;
  private lastDecile = -1;

  constructor(
    private readonly total: number,
    private readonly label: string,
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {}

  /** Adds `n` processed bytes; `count` is what to show next to the bar (e.g. documents imported). */
  advance(n: number, count: number): void {
    this.done += n;
    const now = Date.now();
    const fraction = this.total > 0 ? Math.min(1, this.done / this.total) : 0;
    if (this.out.isTTY) {
      if (now - this.lastDraw < 100) return;
      this.lastDraw = now;
      this.draw(fraction, count);
    } else {
      // 100% is printed by finish(), with the final count.
      const decile = Math.min(9, Math.floor(fraction * 10));
      if (decile === this.lastDecile) return;
      this.lastDecile = decile;
      this.out.write(`${this.label}: ${decile * 10}% (${count.toLocaleString('en-US')} documents)\n`);
    }
  }

  /** Final state: 100% with the final count when everything went through, else where it stopped. */
  finish(count: number, complete = true): void {
    const fraction = complete ? 1 : this.total > 0 ? Math.min(1, this.done / this.total) : 0;
    if (this.out.isTTY) {
      this.draw(fraction, count);
      this.out.write('\n');
    } else if (complete) {
      this.out.write(`${this.label}: 100% (${count.toLocaleString('en-US')} documents)\n`);
    }
  }

  private draw(fraction: number, count: number): void {
    const width = 30;
    const filled = Math.round(fraction * width);
    this.out.write(`\r${this.label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}%  ${count.toLocaleString('en-US')} documents`);
  }
}
