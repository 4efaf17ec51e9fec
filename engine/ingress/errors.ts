export type IngressErrorCode = 'CSV_NOT_FOUND' | 'CSV_EMPTY' | 'CSV_NO_EMAIL_COLUMN' | 'CSV_BAD_HEADER' | 'CSV_MALFORMED' | 'INPUT_INVALID' | 'ZIP_INVALID' | 'ZIP_LIMIT';

/** Bad input the user must fix; `file` and `line` point at it. */
export class IngressError extends Error {
  constructor(
    readonly code: IngressErrorCode,
    message: string,
    readonly file?: string,
    readonly line?: number,
  ) {
    super(file ? `${file}${line ? `:${line}` : ''}: ${message}` : message);
    this.name = 'IngressError';
  }
}
