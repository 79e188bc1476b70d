// A Serf member as Serf reports it (serf.go Member, MemberStatus).

export const MemberStatus = { none: 0, alive: 1, leaving: 2, left: 3, failed: 4 } as const;
export type MemberStatus = (typeof MemberStatus)[keyof typeof MemberStatus];
export const memberStatusNames = ['none', 'alive', 'leaving', 'left', 'failed'] as const;
export type MemberStatusName = (typeof memberStatusNames)[number];

export interface Member {
  readonly name: string;
  readonly addr: Uint8Array;
  readonly port: number;
  readonly tags: ReadonlyMap<string, string>;
  readonly status: MemberStatus;
  /** memberlist protocol range and version of the member. */
  readonly protocolMin: number;
  readonly protocolMax: number;
  readonly protocolCur: number;
  /** Serf (delegate) protocol range and version of the member. */
  readonly delegateMin: number;
  readonly delegateMax: number;
  readonly delegateCur: number;
}

export type MemberEventType = 'member-join' | 'member-leave' | 'member-failed' | 'member-update' | 'member-reap';

export function statusName(status: MemberStatus): MemberStatusName {
  return memberStatusNames[status];
}
