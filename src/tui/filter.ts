// The table filter, in the words of `shoal members`: -name=RE, -status=RE and -tag key=RE (also
// written name=RE, status=RE, tag key=RE or plainly key=RE for a tag); a bare word is a name.
// Every expression is a Go regular expression anchored at both ends, as the agent's
// members-filtered anchors it (src/agent/rpc-filters.ts filterMembers), so a filter that works
// here works with `shoal members` and the other way round.
import { goRegexpMatch } from '../cluster/regexp.js';

export interface MemberFilter {
  readonly name: string;
  readonly status: string;
  readonly tags: ReadonlyMap<string, string>;
}

export type FilterParse = { readonly ok: true; readonly filter: MemberFilter } | { readonly ok: false; readonly error: string };

/** The fields a filter looks at (a table row has them). */
export interface Filterable {
  readonly name: string;
  readonly status: string;
  readonly serfStatus: string;
  readonly tags: ReadonlyMap<string, string>;
}

export const FILTER_SYNTAX = 'name=RE status=RE KEY=RE (tags) or -name=RE -status=RE -tag KEY=RE, as shoal members; a bare word is a name';

export function parseMemberFilter(text: string): FilterParse {
  let name = '';
  let status = '';
  const tags = new Map<string, string>();
  const words = text.trim() === '' ? [] : text.trim().split(/\s+/);
  for (let i = 0; i < words.length; i++) {
    let word = (words[i] as string).replace(/^--?/, '');
    if (word === 'tag' || word === 'name' || word === 'status') {
      // "-tag role=web", "-name web-1": the value is the next word, as the CLI takes it.
      const next = words[++i];
      if (next === undefined) return { ok: false, error: `-${word} needs a value, e.g. ${word === 'tag' ? '-tag role=web' : `-${word}=web-.*`}` };
      word = word === 'tag' ? `tag=${next}` : `${word}=${next}`;
    }
    const eq = word.indexOf('=');
    if (eq < 0) {
      name = word;
      continue;
    }
    const key = word.slice(0, eq);
    const value = word.slice(eq + 1);
    if (key === 'name') name = value;
    else if (key === 'status') status = value;
    else if (key === 'tag') {
      const eq2 = value.indexOf('=');
      if (eq2 <= 0) return { ok: false, error: `Invalid tag: '${value}' (write -tag KEY=RE)` };
      tags.set(value.slice(0, eq2), value.slice(eq2 + 1));
    } else if (key === '') return { ok: false, error: `Invalid filter '${word}': a tag filter needs a key (KEY=RE)` };
    else tags.set(key, value);
  }
  for (const expr of [name, status, ...tags.values()]) {
    if (goRegexpMatch(`^${expr}$`, '') === null) return { ok: false, error: `Failed to compile regex: ${JSON.stringify(expr)} is not a valid regular expression` };
  }
  return { ok: true, filter: { name, status, tags } };
}

/** Whether a member passes; the status expression matches Serf's status or the TUI's (suspect). */
export function memberMatches(filter: MemberFilter, m: Filterable): boolean {
  const matches = (expr: string, value: string): boolean => goRegexpMatch(`^${expr}$`, value) === true;
  for (const [tag, expr] of filter.tags) if (!matches(expr, m.tags.get(tag) ?? '')) return false;
  if (filter.status !== '' && !matches(filter.status, m.status) && !matches(filter.status, m.serfStatus)) return false;
  if (filter.name !== '' && !matches(filter.name, m.name)) return false;
  return true;
}

export function isEmptyFilter(filter: MemberFilter): boolean {
  return filter.name === '' && filter.status === '' && filter.tags.size === 0;
}
