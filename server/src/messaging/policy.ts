/**
 * The content policy scorer: deterministic points per finding, refused at BLOCK_THRESHOLD or above.
 * docs/policy-and-limits.md, "Content policy", lists every rule and number; keep the two in step.
 */
import { contentSkeleton, matchingForm } from './content-skeleton';

export const BLOCK_THRESHOLD = 70;

export const POLICY_RULES = {
	marketing_language: { points: 35, max: 70 },
	link_shortener: { points: 50 },
	many_links: { points: 30, moreThan: 3 },
	bulk_identical_content: { points: 70, recipients: 5, windowMs: 10 * 60_000 },
	repeated_identical_content: { points: 70, repeats: 3, windowMs: 60 * 60_000 },
} as const;

/** Repeated refusals pause the instance for review. */
export const PAUSE_AFTER_VIOLATIONS = { count: 3, windowMs: 60 * 60_000 } as const;

export type PolicyReason = keyof typeof POLICY_RULES;

const ENGLISH_MARKETING = [
	'limited time',
	'limited offer',
	'special offer',
	'exclusive offer',
	'exclusive deal',
	'discount',
	'buy now',
	'shop now',
	'order now',
	'act now',
	'sale',
	'promo',
	'promotion',
	'promo code',
	'coupon',
	'free gift',
	'you have won',
	'winner',
	'click here',
	'subscribe now',
	'best price',
	'lowest price',
	'deal of the day',
	'hurry',
	"don't miss",
	'cheap',
];

const ARABIC_MARKETING = [
	'عرض خاص',
	'عروض',
	'خصم',
	'تخفيضات',
	'تخفيض',
	'لفتره محدوده',
	'اشتر الان',
	'اشتري الان',
	'تسوق الان',
	'كوبون',
	'هديه مجانيه',
	'مجانا',
	'اربح',
	'لا تفوت',
];

const SHORTENERS = new Set([
	'bit.ly',
	'tinyurl.com',
	't.co',
	'goo.gl',
	'ow.ly',
	'is.gd',
	'buff.ly',
	'cutt.ly',
	'rebrand.ly',
	'shorturl.at',
	't.ly',
	'rb.gy',
	'tiny.cc',
	'bitly.com',
	'lnkd.in',
	's.id',
	'v.gd',
]);

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** Each phrase's matching form, back to the phrase as written (findings report the readable phrase). */
const ENGLISH_FORMS = new Map(ENGLISH_MARKETING.map((phrase) => [matchingForm(phrase), phrase]));
const ARABIC_FORMS = new Map(ARABIC_MARKETING.map((phrase) => [matchingForm(phrase), phrase]));
/** Each phrase's form with its spaces left out, as it reads in a run of spelled-apart letters. */
const JOINED_FORMS = new Map(
	[...ENGLISH_FORMS, ...ARABIC_FORMS].map(([form, phrase]) => [form.replace(/ /g, ''), phrase]),
);
const ENGLISH_PATTERN = new RegExp(
	`(?<![\\p{L}\\p{N}])(?:${[...ENGLISH_FORMS.keys()].map(escapeRegExp).join('|')})(?![\\p{L}\\p{N}])`,
	'gu',
);
/** "50% off" in the skeleton's alphabet: digits, "%" and "off" as the confusables table spells them. */
const DIGIT_FORMS = [...new Set('0123456789'.split('').map(matchingForm))];
const PERCENT_OFF = new RegExp(
	`(?<![\\p{L}\\p{N}])(?:${DIGIT_FORMS.map(escapeRegExp).join('|')}){1,3} ?${escapeRegExp(matchingForm('%'))} ?${escapeRegExp(matchingForm('off'))}(?![\\p{L}\\p{N}])`,
	'u',
);
const URL_PATTERN = /\b(?:https?:\/\/|www\.)[^\s<>"']+|\b(?:[a-z0-9-]+\.)+[a-z]{2,}\/[^\s<>"']*/gi;

function hostOf(link: string): string {
	const withScheme = /^https?:\/\//i.test(link) ? link : `http://${link}`;
	try {
		return new URL(withScheme).hostname.replace(/^www\./, '');
	} catch {
		return '';
	}
}

export interface ContentFindings {
	marketingPhrases: string[];
	links: string[];
	shortenerHosts: string[];
}

/** The content rules' findings, read in the content skeleton (see content-skeleton.ts for the evasions it undoes). */
export function inspectContent(text: string): ContentFindings {
	const skeleton = contentSkeleton(text);
	const normalized = skeleton.text;
	const phrases = new Set<string>(
		(normalized.match(ENGLISH_PATTERN) ?? []).map((form) => ENGLISH_FORMS.get(form) ?? form),
	);
	if (PERCENT_OFF.test(normalized)) phrases.add('% off');
	for (const [form, phrase] of ARABIC_FORMS) if (normalized.includes(form)) phrases.add(phrase);
	for (const run of skeleton.spelledApart) {
		for (const [form, phrase] of JOINED_FORMS) if (run.includes(form)) phrases.add(phrase);
	}
	const links = text.match(URL_PATTERN) ?? [];
	const shortenerHosts = [...new Set(links.map(hostOf).filter((host) => SHORTENERS.has(host)))];
	return { marketingPhrases: [...phrases], links, shortenerHosts };
}

export interface SendHistory {
	/** Other recipients this account sent the same content to within the bulk window. */
	otherRecipientsWithSameContent: number;
	/** Earlier sends of the same content to this recipient within the repeat window. */
	repeatsToRecipient: number;
}

export interface PolicyVerdict {
	riskScore: number;
	reasons: PolicyReason[];
	blocked: boolean;
}

export function scoreContent(findings: ContentFindings, history: SendHistory): PolicyVerdict {
	let score = 0;
	const reasons: PolicyReason[] = [];
	const add = (reason: PolicyReason, points: number) => {
		if (points <= 0) return;
		score += points;
		reasons.push(reason);
	};
	const marketing = POLICY_RULES.marketing_language;
	add('marketing_language', Math.min(marketing.max, findings.marketingPhrases.length * marketing.points));
	if (findings.shortenerHosts.length > 0) add('link_shortener', POLICY_RULES.link_shortener.points);
	if (findings.links.length > POLICY_RULES.many_links.moreThan) add('many_links', POLICY_RULES.many_links.points);
	if (history.otherRecipientsWithSameContent >= POLICY_RULES.bulk_identical_content.recipients - 1) {
		add('bulk_identical_content', POLICY_RULES.bulk_identical_content.points);
	}
	if (history.repeatsToRecipient >= POLICY_RULES.repeated_identical_content.repeats - 1) {
		add('repeated_identical_content', POLICY_RULES.repeated_identical_content.points);
	}
	const riskScore = Math.min(100, score);
	return { riskScore, reasons, blocked: riskScore >= BLOCK_THRESHOLD };
}
