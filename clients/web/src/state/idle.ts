/* The inactivity lock of both apps: calls onIdle once no pointer, key, wheel, touch or input
 * event has reached the page for `seconds`. start() on unlock, stop() on every way out. */
const ACTIVITY_EVENTS = ["pointerdown", "keydown", "wheel", "touchstart", "input"] as const;

export class IdleTimer {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly onActivity = () => this.arm();

  constructor(
    private seconds: number,
    private readonly onIdle: () => void,
  ) {}

  /** Another timeout, counted from now if running (a setting read after the timer started). */
  setSeconds(seconds: number): void {
    this.seconds = seconds;
    if (this.timer) this.arm();
  }

  start(): void {
    for (const ev of ACTIVITY_EVENTS) document.addEventListener(ev, this.onActivity, { passive: true, capture: true });
    this.arm();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const ev of ACTIVITY_EVENTS) document.removeEventListener(ev, this.onActivity, { capture: true });
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.stop();
      this.onIdle();
    }, this.seconds * 1000);
  }
}
