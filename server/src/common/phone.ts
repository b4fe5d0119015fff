import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';

const PHONE_CHARACTERS = /^\+?[\d\s().-]+$/;

/**
 * E.164 form of a recipient: "+…" or "00…" is international; anything else is a national number of the
 * account's default country, or, when the account has none, international digits without the "+".
 */
export function normalizePhone(raw: string, defaultCountry: string | null): string | undefined {
	const text = raw.trim();
	if (!PHONE_CHARACTERS.test(text)) return undefined;
	const international = text.startsWith('+') ? text : text.startsWith('00') ? `+${text.slice(2)}` : undefined;
	const parsed = international
		? parsePhoneNumberFromString(international)
		: defaultCountry
			? parsePhoneNumberFromString(text, defaultCountry as CountryCode)
			: parsePhoneNumberFromString(`+${text.replace(/\D/g, '')}`);
	if (!parsed || !parsed.isPossible()) return undefined;
	return parsed.number;
}
