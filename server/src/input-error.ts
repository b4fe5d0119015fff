/** A caller supplied a bad value to a service (CLI flag, operator form). The message is shown as is. */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}
