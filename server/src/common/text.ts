/**
 * The one normalization under every text comparison (opt-out keywords, the content policy, the content
 * hash): what looks the same to a reader compares the same.
 */
/** Lower case, Arabic diacritics and tatweel removed, alef/teh marbuta/yeh forms folded: one spelling per word. */
export function normalizeForMatching(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\u064B-\u065F\u0670\u0640]/g, '')
    .replace(/[\u0622\u0623\u0625\u0671]/g, '\u0627')
    .replace(/\u0629/g, '\u0647')
    .replace(/\u0649/g, '\u064A')
    .replace(/\s+/g, ' ')
    .trim();
}
