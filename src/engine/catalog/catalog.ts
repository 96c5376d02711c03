import { systemClock, type Clock } from '../clock.js';
import { catalogPath } from '../paths.js';
import { BackupsRepo } from './backups.js';
import { observeWrites, type CatalogListener } from './changes.js';
import { openDb, type Db } from './db.js';
import { DestinationsRepo, ProjectsRepo } from './projects.js';
import { RunsRepo } from './runs.js';
import { SchedulesRepo } from './schedules.js';

/**
 * The catalog: a local cache of projects, destinations, schedules, runs and the backups
 * storage holds. It is never needed to restore (archives and their manifests are
 * self-describing) and can be rebuilt from storage (`rebuildCatalog`).
 */
export class Catalog {
  // Not readonly: relocate() points them at the catalog's new file (see catalog/move.ts).
  projects!: ProjectsRepo;
  destinations!: DestinationsRepo;
  schedules!: SchedulesRepo;
  runs!: RunsRepo;
  backups!: BackupsRepo;
  #db!: Db;
  readonly #listeners = new Set<CatalogListener>();

  constructor(
    db: Db,
    readonly clock: Clock = systemClock,
  ) {
    this.#attach(db);
  }

  get db(): Db {
    return this.#db;
  }

  /** Opens the catalog file (default: in the app data folder). */
  static open(file: string = catalogPath(), clock: Clock = systemClock): Catalog {
    return new Catalog(openDb(file), clock);
  }

  /**
   * Switches this catalog to another file (a verified copy, see moveCatalog) and closes
   * the old one. Everyone holding this Catalog follows; a statement kept from the old
   * file fails loudly (its connection is closed) rather than write to the wrong one.
   */
  relocate(file: string): void {
    const next = openDb(file);
    const old = this.#db;
    this.#attach(next);
    old.close();
  }

  #attach(db: Db): void {
    this.#db = db;
    this.projects = new ProjectsRepo(db, this.clock);
    this.destinations = new DestinationsRepo(db, this.clock);
    this.schedules = new SchedulesRepo(db, this.clock);
    this.runs = new RunsRepo(db, this.clock);
    this.backups = new BackupsRepo(db, this.clock);
    observeWrites(this, (change) => {
      for (const listener of this.#listeners) listener(change);
    });
  }

  /**
   * Tells `listener` each change of the shared state after it committed (see changes.ts);
   * returns the unsubscribe function. A listener's failure never undoes the write.
   */
  onChange(listener: CatalogListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(): void {
    this.#db.close();
  }
}
