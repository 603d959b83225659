import type { ConsoleFailure } from '../api/console-api';
import { ConsoleError } from '../api/rpc';

/** Any failure as something the UI can show: a message, never a raw code or a stack. */
export function failureOf(error: unknown): ConsoleFailure {
  if (error instanceof ConsoleError) return { code: error.code, message: error.message, ...(error.details && { details: error.details }) };
  return { code: 'internal', message: error instanceof Error ? error.message : 'Something went wrong.' };
}
