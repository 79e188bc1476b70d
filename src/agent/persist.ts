// Services and checks registered through the HTTP API (or `shoal services register`), kept in the
// agent's data directory so a restarted agent has them again — as Consul keeps them
// (agent/agent.go persistService, persistCheck, persistCheckState; the same layout):
//
//   DATA_DIR/services/<sha256 of the ID>.json      {"ID": …, "Definition": <the registration body>}
//   DATA_DIR/checks/<sha256 of the ID>.json        {"ID": …, "Definition": <the registration body>}
//   DATA_DIR/checks/state/<sha256 of the ID>.json  {"CheckID", "Status", "Output", "Expires"} (TTL checks)
//
// The definition is kept as the client sent it and parsed again at start, so a file says in
// Consul's own words what was registered. Each file is written whole to a temporary name, synced
// and renamed over the old one, so a crash leaves the old file or the new one, never half of
// one. A file that cannot be read back is named in a warning and skipped; the agent starts.
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { isHealthStatus, type HealthStatusName } from '../catalog/types.js';

/** A definition read back from the data directory, with the file it came from (for messages). */
export interface Persisted {
  readonly id: string;
  readonly definition: unknown;
  readonly file: string;
}

/** A TTL check's last state, restored at start while it has not expired (agent.go loadCheckState). */
export interface PersistedCheckState {
  readonly status: HealthStatusName;
  readonly output: string;
  /** Wall-clock ms after which the state is stale (the update's time plus the TTL). */
  readonly expiresAtMs: number;
}

const TMP_SUFFIX = '.tmp';

export class ServiceStore {
  readonly servicesDir: string;
  readonly checksDir: string;
  readonly stateDir: string;

  /** Creates the directories (throws with the path when that is impossible). */
  constructor(
    readonly dataDir: string,
    private readonly warn: (message: string) => void,
  ) {
    this.servicesDir = join(dataDir, 'services');
    this.checksDir = join(dataDir, 'checks');
    this.stateDir = join(this.checksDir, 'state');
    for (const dir of [this.servicesDir, this.stateDir]) {
      try {
        mkdirSync(dir, { recursive: true, mode: 0o700 });
      } catch (err) {
        throw new Error(`data dir ${dataDir}: cannot create ${dir}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
    }
  }

  serviceFile(id: string): string {
    return join(this.servicesDir, fileName(id));
  }

  checkFile(id: string): string {
    return join(this.checksDir, fileName(id));
  }

  stateFile(id: string): string {
    return join(this.stateDir, fileName(id));
  }

  saveService(id: string, definition: unknown): void {
    writeAtomic(this.serviceFile(id), { ID: id, Definition: definition });
  }

  saveCheck(id: string, definition: unknown): void {
    writeAtomic(this.checkFile(id), { ID: id, Definition: definition });
  }

  saveCheckState(id: string, state: PersistedCheckState): void {
    writeAtomic(this.stateFile(id), { CheckID: id, Status: state.status, Output: state.output, Expires: state.expiresAtMs });
  }

  removeService(id: string): void {
    rmSync(this.serviceFile(id), { force: true });
  }

  removeCheck(id: string): void {
    rmSync(this.checkFile(id), { force: true });
    this.removeCheckState(id);
  }

  removeCheckState(id: string): void {
    rmSync(this.stateFile(id), { force: true });
  }

  /** Every readable service file; the others are named in a warning and skipped. */
  loadServices(): Persisted[] {
    return this.loadDir(this.servicesDir, 'service');
  }

  loadChecks(): Persisted[] {
    return this.loadDir(this.checksDir, 'check');
  }

  /** A TTL check's saved state, if there is a readable one that has not expired at `nowMs`. */
  loadCheckState(id: string, nowMs: number): PersistedCheckState | null {
    const file = this.stateFile(id);
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      this.warn(`agent: ignoring check state file ${file}: ${reason(err)}; the check starts critical`);
      return null;
    }
    const o = raw as { CheckID?: unknown; Status?: unknown; Output?: unknown; Expires?: unknown } | null;
    if (o === null || typeof o !== 'object' || o.CheckID !== id || !isHealthStatus(o.Status) || typeof o.Output !== 'string' || typeof o.Expires !== 'number') {
      this.warn(`agent: ignoring check state file ${file}: expected {"CheckID": "${id}", "Status", "Output", "Expires"}; the check starts critical`);
      return null;
    }
    if (o.Expires <= nowMs) {
      // Consul deletes an expired state (agent.go loadCheckState): the TTL ran out while we were down.
      this.removeCheckState(id);
      return null;
    }
    return { status: o.Status, output: o.Output, expiresAtMs: o.Expires };
  }

  private loadDir(dir: string, what: 'service' | 'check'): Persisted[] {
    let names: string[];
    try {
      names = readdirSync(dir, { withFileTypes: true })
        .filter((e) => e.isFile() && e.name.endsWith('.json'))
        .map((e) => e.name)
        .sort();
    } catch (err) {
      this.warn(`agent: cannot read persisted ${what}s in ${dir}: ${reason(err)}`);
      return [];
    }
    const out: Persisted[] = [];
    for (const name of names) {
      const file = join(dir, name);
      try {
        const raw = JSON.parse(readFileSync(file, 'utf8')) as { ID?: unknown; Definition?: unknown } | null;
        if (raw === null || typeof raw !== 'object' || typeof raw.ID !== 'string' || raw.ID === '' || typeof raw.Definition !== 'object' || raw.Definition === null) {
          throw new Error('expected {"ID": "…", "Definition": {…}}');
        }
        if (fileName(raw.ID) !== name) throw new Error(`holds ID ${JSON.stringify(raw.ID)}, which belongs in ${fileName(raw.ID)}`);
        out.push({ id: raw.ID, definition: raw.Definition, file });
      } catch (err) {
        this.warn(`agent: ignoring persisted ${what} file ${file}: ${reason(err)}; the agent starts without it (register the ${what} again, or delete the file)`);
      }
    }
    return out;
  }
}

/** Consul names the files by a hash of the ID (IDs may hold any character, file names may not). */
function fileName(id: string): string {
  return `${createHash('sha256').update(id).digest('hex')}.json`;
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Temporary file, fsync, rename over the old one, fsync the directory: all or nothing. */
export function writeAtomic(file: string, value: unknown): void {
  const tmp = file + TMP_SUFFIX;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, JSON.stringify(value));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  const dir = openSync(join(file, '..'), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}
