// Serf matches tag filters with Go's regexp.MatchString: RE2 syntax, unanchored. JavaScript's
// RegExp agrees on the common subset; the constructs RE2 accepts and JS spells differently are
// rewritten, and the ones RE2 refuses (backreferences, lookaround) are refused here too.

const cache = new Map<string, RegExp | null>();

/** true/false for a match, null when the expression is not valid RE2. */
export function goRegexpMatch(expr: string, value: string): boolean | null {
  let re = cache.get(expr);
  if (re === undefined) {
    re = compile(expr);
    if (cache.size > 256) cache.clear();
    cache.set(expr, re);
  }
  return re === null ? null : re.test(value);
}

function compile(expr: string): RegExp | null {
  // RE2 has no backreferences or lookaround; JS would accept them, so refuse them as Go does.
  if (/\\[1-9]|\(\?[=!<]/.test(expr)) return null;
  // RE2's (?P<name>…) is JS's (?<name>…); \z is JS's $ without the multiline flag.
  const js = expr.replace(/\(\?P</g, '(?<').replace(/\\z/g, '$');
  try {
    return new RegExp(js, 'u');
  } catch {
    return null;
  }
}
