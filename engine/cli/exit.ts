/** Exit codes of the mxpress CLI (documented in docs/operations.md). */
export const EXIT = {
  ok: 0,
  internal: 1,
  usage: 2,
  config: 3,
  input: 4,
  locked: 5,
  storage: 6,
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The disk under the database is full: SQLite refuses the write and keeps what was committed. */
export function isStorageFull(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'SQLITE_FULL';
}

/** An error the CLI reports as one line and turns into its exit code. */
export class CliError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
