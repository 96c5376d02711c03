import { systemClock, type Clock } from '../clock.js';
import { catalogPath } from '../paths.js';
import { BackupsRepo } from './backups.js';
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
  readonly projects: ProjectsRepo;
  readonly destinations: DestinationsRepo;
  readonly schedules: SchedulesRepo;
  readonly runs: RunsRepo;
  readonly backups: BackupsRepo;

  constructor(
    readonly db: Db,
    readonly clock: Clock = systemClock,
  ) {
    this.projects = new ProjectsRepo(db, clock);
    this.destinations = new DestinationsRepo(db, clock);
    this.schedules = new SchedulesRepo(db, clock);
    this.runs = new RunsRepo(db, clock);
    this.backups = new BackupsRepo(db, clock);
  }

  /** Opens the catalog file (default: in the app data folder). */
  static open(file: string = catalogPath(), clock: Clock = systemClock): Catalog {
    return new Catalog(openDb(file), clock);
  }

  close(): void {
    this.db.close();
  }
}
