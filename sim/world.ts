// One simulation run: the clock and scheduler, the seeded generator everything random derives
// from, the network, and the hosts addressed by their IP and port.
import { addressKey, type Address } from '../src/protocol/address.js';
import type { LogLevel } from '../src/protocol/effects.js';
import { SeededRng } from '../src/protocol/rng.js';
import type { SimEngine, SimHost } from './host.js';
import { Network } from './network.js';
import { Scheduler } from './scheduler.js';

export class World {
  readonly scheduler = new Scheduler();
  readonly rng: SeededRng;
  readonly network: Network;
  private readonly byAddress = new Map<string, SimHost<SimEngine>>();
  onLog?: (host: SimHost<SimEngine>, level: LogLevel, message: string) => void;
  /** Sees every datagram a running host takes in, just before its engine does. */
  onPacket?: (from: Address, to: SimHost<SimEngine>, bytes: Uint8Array) => void;

  constructor(readonly seed: number) {
    this.rng = new SeededRng(seed);
    this.network = new Network(this.scheduler, this.rng.fork());
  }

  register(host: SimHost<SimEngine>): void {
    this.byAddress.set(addressKey(host.address), host);
  }

  hostAt(address: Address): SimHost<SimEngine> | undefined {
    return this.byAddress.get(addressKey(address));
  }
}
