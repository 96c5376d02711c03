/**
 * Which destination "Back up now" uses for a project: the one the user last picked for it,
 * else the destination of the project's first schedule (where its backups usually go),
 * else the first destination. Pure, so the rule is tested without a screen.
 */
export function defaultDestination(
  projectId: string,
  destinationIds: readonly string[],
  schedules: ReadonlyArray<{ projectId: string; destinationId: string }>,
  picked: string | undefined,
): string | undefined {
  if (picked && destinationIds.includes(picked)) return picked;
  const scheduled = schedules.find(
    (s) => s.projectId === projectId && destinationIds.includes(s.destinationId),
  );
  return scheduled?.destinationId ?? destinationIds[0];
}
