import type { z } from 'zod';

export interface FieldIssue {
  /** Where the problem is, e.g. `indicators[3].value`. */
  field: string;
  message: string;
}

/** Renders a zod path as people write it: `indicators[3].value`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out === '' ? '(body)' : out;
}

export function fieldIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.flatMap((issue): FieldIssue[] => {
    // An unknown key is reported on its parent; name the key itself instead.
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        field: formatPath([...issue.path, key]),
        message: 'is not a known field',
      }));
    }
    return [{ field: formatPath(issue.path), message: issue.message }];
  });
}

export function describeIssues(issues: readonly FieldIssue[]): string {
  return issues.map((issue) => `${issue.field}: ${issue.message}`).join('; ');
}
