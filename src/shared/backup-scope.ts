import type { BackupScope } from './schedules.js';

/**
 * What is wrong with a backup scope as a whole (each field is checked by its schema):
 * a filter for a source the scope does not include would be ignored silently, so it is
 * refused instead. Shared by the contract (jobs.startBackup) and `schedule add`.
 */
export function backupScopeProblems(scope: BackupScope): string[] {
  const sources: readonly string[] = scope.sources ?? ['firestore'];
  const problems: string[] = [];
  const filters: Array<[source: string, given: string[]]> = [
    [
      'firestore',
      [scope.collections?.length ? 'collections' : '', scope.exclude?.length ? 'exclude' : ''],
    ],
    [
      'rtdb',
      [
        scope.rtdbInstances?.length ? 'rtdbInstances' : '',
        scope.rtdbPaths?.length ? 'rtdbPaths' : '',
      ],
    ],
    [
      'storage',
      [scope.buckets?.length ? 'buckets' : '', scope.storagePrefix ? 'storagePrefix' : ''],
    ],
  ];
  for (const [source, given] of filters) {
    const names = given.filter(Boolean);
    if (names.length > 0 && !sources.includes(source)) {
      problems.push(
        `${names.join(' and ')} select${names.length > 1 ? '' : 's'} ${source} data, but sources (${sources.join(', ')}) leave ${source} out: add "${source}" to sources or drop ${names.length > 1 ? 'them' : 'it'}.`,
      );
    }
  }
  return problems;
}
