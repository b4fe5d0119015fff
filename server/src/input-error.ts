/**
 * A caller supplied a bad value to a service (CLI flag, operator form, request field). The message is
 * shown as is; `fields` names the failing fields when there are several. The HTTP edge answers it as
 * 422 validation_error.
 */
export class InputError extends Error {
	constructor(
		message: string,
		readonly fields?: Record<string, string>,
	) {
		super(message);
		this.name = 'InputError';
	}
}
