/* A real veilled for the protocol client's tests: a data directory made by the real veillectl
 * in a temporary directory, and the server on a loopback port, as tests/integration/harness.c
 * does for the C side. The paths come from the environment (VEILLED, VEILLECTL: ctest passes
 * them); without them the tests that need a server are skipped. Every wait is bounded. */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const WAIT_MS = 10_000;

/** Why the server tests cannot run here, or undefined when they can. */
export const noServer: string | undefined =
  process.env.VEILLED && process.env.VEILLECTL
    ? undefined
    : "VEILLED and VEILLECTL are not set (ctest sets them): no veilled to test against";

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Veilled {
  readonly dir = mkdtempSync(join(tmpdir(), "veille-web-unit-"));
  readonly data = join(this.dir, "data");
  private readonly portFile = join(this.dir, "port");
  private child: ChildProcess | null = null;
  port = 0;

  constructor(private readonly extra: string[] = []) {
    this.ctl("init");
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/sync`;
  }

  /** Runs veillectl --data DIR args; its stdout. Throws with its stderr if it fails. */
  ctl(...args: string[]): string {
    const r = spawnSync(process.env.VEILLECTL!, ["--data", this.data, ...args], { encoding: "utf8", timeout: WAIT_MS });
    if (r.status !== 0) throw new Error(`veillectl ${args.join(" ")}: ${r.stderr || r.error}`);
    return r.stdout;
  }

  /** Starts veilled, on the port it had before if it ran already (clients reconnect there). */
  async start(): Promise<void> {
    rmSync(this.portFile, { force: true });
    const listen = `127.0.0.1:${this.port}`;
    this.child = spawn(
      process.env.VEILLED!,
      ["--data", this.data, "--listen", listen, "--port-file", this.portFile, "--log-level", "warning", ...this.extra],
      {
        stdio: ["ignore", "ignore", "inherit"],
      },
    );
    for (const end = Date.now() + WAIT_MS; Date.now() < end; await pause(20)) {
      const text = existsSync(this.portFile) ? readFileSync(this.portFile, "utf8").trim() : "";
      if (/^\d+$/.test(text)) {
        this.port = Number(text);
        return;
      }
      if (this.child.exitCode !== null) break;
    }
    throw new Error("veilled did not start");
  }

  /** Started and not exited. */
  get running(): boolean {
    return this.child !== null && this.child.exitCode === null;
  }

  /** SIGTERM, as an operator's restart: veilled closes its connections with 1001 and exits 0. */
  async stop(): Promise<number | null> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), WAIT_MS);
    const code = await exited;
    clearTimeout(timer);
    return code;
  }

  /** SIGKILL, as a crash: veilled keeps every committed transaction (LMDB) and nothing else. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await exited;
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
