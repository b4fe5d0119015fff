import { normalizeForMatching } from '../common/text';

/**
 * The content policy's view of a text: what a reader takes it to say, whatever it is dressed in. On top of
 * the one normalization every comparison uses (common/text.ts: case, look-alike letters, Arabic forms,
 * invisible characters), two evasions are undone:
 *
 * - letters spelled apart ("B.u.y n.o.w", "B u y  n o w"): a run of three or more single characters, each
 *   apart from the next by a few separators, is read as the letters joined ("buynow"); a phrase matches
 *   inside such a run with its spaces left out;
 * - digits and symbols standing for letters inside a word ("n0w", "L1mited", "d1sc0unt", "$ale"): folded to
 *   the letters they stand for, only in words that also hold a letter, so numbers ("#2041", "150.00") stay
 *   numbers. "i" and "l" (and "1", "|", "!") compare as one letter, since the look-alike table already
 *   reads "1" as "l".
 */

/** A single letter, or a digit or symbol that can stand for one. */
const SINGLE = String.raw`[\p{L}\p{N}$@]`;
/** What may stand between spelled-apart letters: 1–3 spaces or punctuation marks, never a line break. */
const APART = String.raw`[^\p{L}\p{N}\n]{1,3}`;
const SPELLED_APART = new RegExp(
	String.raw`(?<![\p{L}\p{N}$@|])${SINGLE}(?:${APART}${SINGLE}(?![\p{L}\p{N}$@|])){2,}`,
	'gu',
);
/** A word: letters with the digits and symbols that can be written inside one. */
const WORD = /[\p{L}\p{N}$@|!]+/gu;
const LETTER = /\p{L}/u;
const LOOKALIKE_LETTERS: Record<string, string> = {
	'0': 'o',
	'1': 'i',
	'3': 'e',
	'4': 'a',
	'5': 's',
	'7': 't',
	'8': 'b',
	'@': 'a',
	$: 's',
	'|': 'i',
	'!': 'i',
};
const LOOKALIKE = /[0134578@$|!]/g;

/** Folds digits and symbols inside words that also hold a letter; a trailing "!" is punctuation, kept. */
function foldLookalikes(text: string): string {
	return text.replace(WORD, (word) => {
		const core = word.replace(/!+$/, '');
		if (!LETTER.test(core)) return word;
		return core.replace(LOOKALIKE, (character) => LOOKALIKE_LETTERS[character]) + word.slice(core.length);
	});
}

/** The form both the text and the phrase lists are matched in. */
export function matchingForm(text: string): string {
	return normalizeForMatching(foldLookalikes(text)).replace(/i/g, 'l');
}

export interface ContentSkeleton {
	/** The text with look-alikes folded, in the matching form. */
	text: string;
	/** Each run of spelled-apart letters, joined, in the matching form. */
	spelledApart: string[];
}

export function contentSkeleton(text: string): ContentSkeleton {
	const plain = text.normalize('NFKC').replace(/\p{Cf}/gu, '');
	const spelledApart = (plain.match(SPELLED_APART) ?? []).map((run) =>
		matchingForm(run.replace(new RegExp(APART, 'gu'), '')),
	);
	return {
		text: matchingForm(plain.replace(SPELLED_APART, (run) => run.replace(new RegExp(APART, 'gu'), ''))),
		spelledApart,
	};
}

/**
 * What "the same content" means for the bulk and repeat rules: the skeleton's letters and digits alone, so
 * spacing, punctuation and trailing dots do not make a text new.
 */
export function contentKey(text: string): string {
	return contentSkeleton(text).text.replace(/[^\p{L}\p{N}]/gu, '');
}
