import { normalizeForMatching } from '../common/text';

/** Whole-message opt-out keywords (English, after Twilio; Arabic, after the Saudi regulator's "غ"). */
export const DEFAULT_OPT_OUT = [
	'STOP',
	'STOPALL',
	'UNSUBSCRIBE',
	'CANCEL',
	'END',
	'QUIT',
	'OPTOUT',
	'REVOKE',
	'غ',
	'إيقاف',
	'ايقاف',
	'توقف',
	'الغاء',
	'إلغاء',
];
/** Opt-in keywords lift a keyword opt-out (never an operator's suppression). */
export const DEFAULT_OPT_IN = ['START', 'UNSTOP', 'YES'];

/** The message as one comparable token: case, Arabic diacritics, tatweel and alef forms folded; surrounding punctuation dropped. */
export function keywordForm(text: string): string {
	return normalizeForMatching(text).replace(/^[\s\p{P}\p{S}]+|[\s\p{P}\p{S}]+$/gu, '');
}

export interface KeywordLists {
	optOut: string[];
	optIn: string[];
}

/** The keyword lists' forms, computed once per keyword rather than once per inbound message. */
const keywordForms = new Map<string, string>();

function cachedKeywordForm(keyword: string): string {
	let form = keywordForms.get(keyword);
	if (form === undefined) {
		if (keywordForms.size >= 10_000) keywordForms.clear();
		form = keywordForm(keyword);
		keywordForms.set(keyword, form);
	}
	return form;
}

export function classifyKeyword(text: string, lists: KeywordLists): 'opt_out' | 'opt_in' | undefined {
	const form = keywordForm(text);
	if (form === '') return undefined;
	if (lists.optOut.some((keyword) => cachedKeywordForm(keyword) === form)) return 'opt_out';
	if (lists.optIn.some((keyword) => cachedKeywordForm(keyword) === form)) return 'opt_in';
	return undefined;
}
