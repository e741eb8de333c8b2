/** A problem with what the caller asked for (bad input, unknown run …): CLI exit code 2. */
export class RuntimeUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RuntimeUsageError';
  }
}
