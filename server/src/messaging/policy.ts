import confusables from 'unhomoglyph/data.json';

/**
 * The content policy scorer: deterministic points per finding, refused at BLOCK_THRESHOLD or above.
 * README "Content policy" lists every rule and number; keep the two in step.
 */
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

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** Each phrase's matching form, back to the phrase as written (findings report the readable phrase). */
const ENGLISH_FORMS = new Map(ENGLISH_MARKETING.map((phrase) => [normalizeForMatching(phrase), phrase]));
const ARABIC_FORMS = new Map(ARABIC_MARKETING.map((phrase) => [normalizeForMatching(phrase), phrase]));
const ENGLISH_PATTERN = new RegExp(
  `(?<![\\p{L}\\p{N}])(?:${[...ENGLISH_FORMS.keys()].map(escapeRegExp).join('|')})(?![\\p{L}\\p{N}])`,
  'gu',
);
/** "50% off" in the skeleton's alphabet: digits, "%" and "off" as the confusables table spells them. */
const DIGIT_FORMS = [...new Set('0123456789'.split('').map(normalizeForMatching))];
const PERCENT_OFF = new RegExp(
  `(?<![\\p{L}\\p{N}])(?:${DIGIT_FORMS.map(escapeRegExp).join('|')}){1,3} ?${escapeRegExp(normalizeForMatching('%'))} ?${escapeRegExp(normalizeForMatching('off'))}(?![\\p{L}\\p{N}])`,
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

export function inspectContent(text: string): ContentFindings {
  const normalized = normalizeForMatching(text);
  const phrases = new Set<string>((normalized.match(ENGLISH_PATTERN) ?? []).map((form) => ENGLISH_FORMS.get(form) ?? form));
  if (PERCENT_OFF.test(normalized)) phrases.add('% off');
  for (const [form, phrase] of ARABIC_FORMS) if (normalized.includes(form)) phrases.add(phrase);
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
