// One member as this node sees it (memberlist nodeState).
import type { Address } from './address.js';

export const NodeStateType = { alive: 0, suspect: 1, dead: 2, left: 3 } as const;
export type NodeStateType = (typeof NodeStateType)[keyof typeof NodeStateType];
export const nodeStateNames = ['alive', 'suspect', 'dead', 'left'] as const;

export interface NodeState {
  readonly name: string;
  addr: Uint8Array;
  port: number;
  meta: Uint8Array;
  incarnation: number;
  state: NodeStateType;
  stateChangeMs: number;
  /** Vsn: memberlist protocol min/max/current, then the delegate's (Serf's). */
  pMin: number;
  pMax: number;
  pCur: number;
  dMin: number;
  dMax: number;
  dCur: number;
}

/** A read-only snapshot of a member handed to delegates and callers. */
export interface NodeView {
  readonly name: string;
  readonly addr: Uint8Array;
  readonly port: number;
  readonly meta: Uint8Array;
  readonly incarnation: number;
  readonly state: NodeStateType;
  readonly stateChangeMs: number;
  readonly vsn: readonly [number, number, number, number, number, number];
}

export function viewOf(n: NodeState): NodeView {
  return {
    name: n.name, addr: n.addr, port: n.port, meta: n.meta, incarnation: n.incarnation, state: n.state,
    stateChangeMs: n.stateChangeMs, vsn: [n.pMin, n.pMax, n.pCur, n.dMin, n.dMax, n.dCur],
  };
}

export function addressOf(n: NodeState | NodeView): Address {
  return { ip: n.addr, port: n.port };
}

export function deadOrLeft(n: NodeState): boolean {
  return n.state === NodeStateType.dead || n.state === NodeStateType.left;
}
