export class StoreError extends Error {
  constructor(
    readonly code: 'STORE_OPEN' | 'STORE_NOT_FOUND' | 'STORE_STATE' | 'STORE_BAD_CURSOR',
    message: string,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}
