// The client commands (issue #5): each speaks Serf's RPC to a running agent, a `serf agent` or a
// shoal agent alike, with serf 0.9.4's flags and output (cmd/serf/command/*.go).
import type { Command } from 'commander';
import { registerEvent } from './event.js';
import { registerForceLeave } from './force-leave.js';
import { registerInfo } from './info.js';
import { registerJoin } from './join.js';
import { registerKeygen } from './keygen.js';
import { registerKeys } from './keys.js';
import { registerLeave } from './leave.js';
import { registerMembers } from './members.js';
import { registerMonitor } from './monitor.js';
import { registerQuery } from './query.js';
import { registerReachability } from './reachability.js';
import { registerRtt } from './rtt.js';
import { registerTags } from './tags.js';
import { registerVersion } from './version.js';

export function registerClientCommands(program: Command): void {
  registerMembers(program);
  registerJoin(program);
  registerLeave(program);
  registerForceLeave(program);
  registerEvent(program);
  registerQuery(program);
  registerTags(program);
  registerMonitor(program);
  registerInfo(program);
  registerKeys(program);
  registerKeygen(program);
  registerReachability(program);
  registerRtt(program);
  registerVersion(program);
}
