import type { z } from 'zod';
import { ApiError } from './errors';

export type FieldErrors = Record<string, string>;

/**
 * zod's issues as `{field: reason}`, the `details.fields` of a validation_error: unknown fields are
 * "is not a known field", absent ones "is required", others say what was expected.
 */
export function fieldErrors(issues: readonly z.core.$ZodIssue[], input: unknown): FieldErrors {
	// No prototype: a field named "__proto__" is reported like any other unknown field.
	const errors: FieldErrors = Object.create(null) as FieldErrors;
	const given = typeof input === 'object' && input !== null ? (input as Record<string, unknown>) : {};
	for (const issue of issues) {
		if (issue.code === 'unrecognized_keys') {
			for (const key of issue.keys) errors[key] = 'is not a known field';
			continue;
		}
		const field = issue.path.join('.') || 'body';
		const missing = issue.code === 'invalid_type' && given[String(issue.path[0])] === undefined;
		const article = /^[aeiou]/.test(issue.code === 'invalid_type' ? issue.expected : '') ? 'an' : 'a';
		const wrongType = issue.code === 'invalid_type' ? `must be ${article} ${issue.expected}` : issue.message;
		errors[field] ??= missing ? 'is required' : wrongType;
	}
	return errors;
}

/** Parses a request body (or any untrusted value) at the edge; refuses with 422 validation_error and the fields. */
export function parseWith<Schema extends z.ZodType>(schema: Schema, input: unknown): z.infer<Schema> {
	const parsed = schema.safeParse(input);
	if (!parsed.success) throw new ApiError('validation_error', { fields: fieldErrors(parsed.error.issues, input) });
	return parsed.data;
}
