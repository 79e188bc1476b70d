// Reads the failure-detection story out of an agent's log lines (the `monitor` stream): who
// suspected whom, who confirmed, who refuted, when a suspicion timed out. memberlist says some of
// it ("Suspect X has failed, no acks received", "Refuting a suspect message (from: Y)", "Marking X
// as failed, suspect timeout reached"); a shoal agent adds at DEBUG "marking X as suspect (from: Y)",
// "suspect X confirmed (from: Y)" and "suspect X refuted (incarnation N)" (src/protocol/memberlist.ts).
// Matching ignores case: memberlist capitalises, shoal does not.

export type LogFact =
  | { readonly kind: 'suspect'; readonly node: string; readonly by: string | null }
  | { readonly kind: 'confirm'; readonly node: string; readonly by: string }
  | { readonly kind: 'refuted'; readonly node: string; readonly incarnation: string }
  | { readonly kind: 'refuting'; readonly accuser: string; readonly what: 'suspect' | 'dead' }
  | { readonly kind: 'timeout'; readonly node: string; readonly detail: string };

export interface ParsedLogLine {
  /** Local time from Serf's "2006/01/02 15:04:05" prefix; null when the line has none. */
  readonly atMs: number | null;
  readonly fact: LogFact | null;
}

const TIME = /^(\d{4})\/(\d\d)\/(\d\d) (\d\d):(\d\d):(\d\d)/;

const PATTERNS: ReadonlyArray<readonly [RegExp, (m: RegExpExecArray) => LogFact]> = [
  [/memberlist: suspect (\S+) has failed, no acks received/i, (m) => ({ kind: 'suspect', node: m[1] as string, by: null })],
  [/memberlist: marking (\S+) as suspect \(from: ([^)]*)\)/i, (m) => ({ kind: 'suspect', node: m[1] as string, by: m[2] as string })],
  [/memberlist: suspect (\S+) confirmed \(from: ([^)]*)\)/i, (m) => ({ kind: 'confirm', node: m[1] as string, by: m[2] as string })],
  [/memberlist: suspect (\S+) refuted \(incarnation (\d+)\)/i, (m) => ({ kind: 'refuted', node: m[1] as string, incarnation: m[2] as string })],
  [/memberlist: refuting a (suspect|dead) message \(from: ([^)]*)\)/i, (m) => ({ kind: 'refuting', accuser: m[2] as string, what: (m[1] as string).toLowerCase() as 'suspect' | 'dead' })],
  [/memberlist: marking (\S+) as failed, (suspect timeout reached.*)$/i, (m) => ({ kind: 'timeout', node: m[1] as string, detail: m[2] as string })],
];

export function parseAgentLogLine(line: string): ParsedLogLine {
  const t = TIME.exec(line);
  const atMs = t === null ? null : new Date(+t[1]!, +t[2]! - 1, +t[3]!, +t[4]!, +t[5]!, +t[6]!).getTime();
  for (const [re, make] of PATTERNS) {
    const m = re.exec(line);
    if (m !== null) return { atMs, fact: make(m) };
  }
  return { atMs, fact: null };
}
