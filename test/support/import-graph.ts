import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, for paths in messages. */
export const REPOSITORY_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** One import of one file: where it points, and whether it is erased at run time. */
export interface ImportEdge {
  /** repository-relative path of a local module, or the package / `node:` specifier */
  target: string;
  local: boolean;
  typeOnly: boolean;
}

const IMPORT = /^\s*(?:import|export)\s+(type\s+)?(?:[^'"]*?\sfrom\s+)?['"]([^'"]+)['"]/gm;
const DYNAMIC_IMPORT = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Every .ts file below `folder` (repository-relative), sorted. */
export function typeScriptFiles(folder: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(REPOSITORY_ROOT, dir), { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) found.push(path);
    }
  };
  walk(folder);
  return found.sort();
}

/** The imports (static, re-exports and dynamic) of one repository-relative file. */
export function importsOf(file: string): ImportEdge[] {
  return importsIn(file, readFileSync(join(REPOSITORY_ROOT, file), 'utf8'));
}

/** The imports of `text`, the source of the repository-relative `file`. */
export function importsIn(file: string, text: string): ImportEdge[] {
  const edges: ImportEdge[] = [];
  const add = (specifier: string, typeOnly: boolean) => {
    const local = specifier.startsWith('.');
    const target = local
      ? relative(REPOSITORY_ROOT, resolve(REPOSITORY_ROOT, dirname(file), specifier))
      : specifier;
    edges.push({ target, local, typeOnly });
  };
  for (const match of text.matchAll(IMPORT)) add(match[2] as string, match[1] !== undefined);
  for (const match of text.matchAll(DYNAMIC_IMPORT)) add(match[1] as string, false);
  return edges;
}

/** Cycles among local modules (type-only imports included), each as its files in order. */
export function importCycles(
  files: string[],
  importsOfFile: (file: string) => ImportEdge[] = importsOf,
): string[][] {
  const graph = new Map(files.map((file) => [file, importsOfFile(file).filter((e) => e.local)]));
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, 'open');
    stack.push(file);
    for (const { target } of graph.get(file) ?? []) {
      if (!graph.has(target)) continue;
      if (state.get(target) === 'open') cycles.push(stack.slice(stack.indexOf(target)));
      else if (state.get(target) === undefined) visit(target);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of files) if (state.get(file) === undefined) visit(file);
  return cycles;
}
