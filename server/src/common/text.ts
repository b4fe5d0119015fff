/**
 * The one normalization under every text comparison (opt-out keywords, the content policy, the content
 * hash): what looks the same to a reader compares the same.
 */
import confusables from 'unhomoglyph/data.json';

/**
 * Unicode's confusables.txt (UTS #39), as packaged by unhomoglyph: each look-alike code point mapped to
 * its prototype ("а" Cyrillic → "a", "ο" Greek → "o"). Both the text and the phrase lists go through it,
 * so a phrase matches whatever mix of scripts spells it.
 */
const CONFUSABLE_PROTOTYPES = new Map<string, string>(Object.entries(confusables as Record<string, string>));

/** Format characters (category Cf: zero-width space and joiners, bidi controls, soft hyphen…) and combining marks. */
const FORMAT_CHARACTERS = /\p{Cf}/gu;
const COMBINING_MARKS = /\p{Mn}/gu;

/** Every code point the table maps, as one character class: most text has few, so replacing them is cheap. */
const CONFUSABLE_CHARACTER = new RegExp(
	`[${[...CONFUSABLE_PROTOTYPES.keys()].map((character) => character.replace(/[\\\]^-]/g, '\\$&')).join('')}]`,
	'gu',
);
const NON_ASCII = /[^\p{ASCII}]/u;

/** The UTS #39 skeleton of already decomposed text: every code point replaced by its prototype. */
function confusableSkeleton(text: string): string {
	return text.replace(CONFUSABLE_CHARACTER, (character) => CONFUSABLE_PROTOTYPES.get(character) ?? character);
}

/**
 * One comparable form per text, used for content matching, the content hash and keywords: NFKC, lower case,
 * format characters removed (so zero-width spaces hide nothing), Arabic alef/teh marbuta/yeh forms folded,
 * diacritics and tatweel removed, then look-alike letters folded to their skeleton. The result is for
 * comparing, not for reading ("m" becomes "rn", as in Unicode's table).
 */
export function normalizeForMatching(text: string): string {
	// ASCII is already NFKC and NFD and has no format characters or marks: only the skeleton applies.
	const folded = NON_ASCII.test(text)
		? text
				.normalize('NFKC')
				.replace(FORMAT_CHARACTERS, '')
				.toLowerCase()
				.replace(/[\u0622\u0623\u0625\u0671]/g, '\u0627')
				.replace(/\u0629/g, '\u0647')
				.replace(/\u0649/g, '\u064A')
				.replace(/\u0640/g, '')
				.normalize('NFD')
				.replace(COMBINING_MARKS, '')
		: text.toLowerCase();
	const skeleton = confusableSkeleton(folded);
	return (NON_ASCII.test(skeleton) ? skeleton.normalize('NFD').replace(COMBINING_MARKS, '') : skeleton)
		.toLowerCase()
		.replace(/\s+/g, ' ')
		.trim();
}
