// User workflow templates: JSON files in the repository's .orchard/workflows/, next to the
// built-ins (a file may replace a built-in by id).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { templateSet, USER_TEMPLATE_DIR, type TemplateSet } from '../core/workflows/builtins';

/** Built-in templates plus the repository's .orchard/workflows/*.json. */
export function loadTemplates(repo: string): TemplateSet {
  const dir = join(repo, USER_TEMPLATE_DIR);
  const files = existsSync(dir)
    ? readdirSync(dir)
        .filter((n) => n.endsWith('.json'))
        .sort()
        .map((n) => ({ name: `${USER_TEMPLATE_DIR}/${n}`, text: readFileSync(join(dir, n), 'utf8') }))
    : [];
  return templateSet(files);
}
