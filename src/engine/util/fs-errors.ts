import { AppError } from '../../shared/errors.js';

/**
 * Turns a Node filesystem error into an AppError that tells the user what to do.
 * `intent` picks the advice for a permission error: a file we only read needs read
 * access, not "a folder you can write to".
 */
export function fromFsError(
  error: unknown,
  what: string,
  intent: 'read' | 'write' = 'write',
): AppError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return new AppError('NOT_FOUND', `${what}: no such file or folder.`, { cause: error });
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new AppError(
        'PERMISSION_DENIED',
        intent === 'read'
          ? `${what}: permission denied. Check its permissions: the user running firebackup must be able to read it.`
          : `${what}: permission denied. Choose a folder you can write to, or fix its permissions.`,
        { cause: error },
      );
    case 'ENOSPC':
    case 'EDQUOT':
      return new AppError(
        'NO_SPACE',
        `${what}: the disk is full. Free some space or choose another destination; nothing partial was kept.`,
        { cause: error },
      );
    case 'EEXIST':
      return new AppError('ALREADY_EXISTS', `${what}: it already exists.`, { cause: error });
    case 'EISDIR':
      return new AppError('INVALID_ARGUMENT', `${what}: it is a folder, not a file.`, {
        cause: error,
      });
    case 'ENOTDIR':
      return new AppError(
        'INVALID_ARGUMENT',
        `${what}: a part of the path is a file, not a folder. Choose a folder path.`,
        { cause: error },
      );
    default:
      return new AppError(
        'INTERNAL',
        `${what}: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
  }
}
