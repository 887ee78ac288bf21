import { canonicalJson } from './canonical-json.ts';
import type { JsonObject, JsonValue } from './customer-fields.ts';
import type { Stamp } from './stamp.ts';

/**
 * Metadata is applied as an RFC 7396 merge patch (SPEC §3), but merge patches applied in
 * different orders give different documents. To converge whatever the arrival order
 * (SPEC §4.3) every path the patches touch is kept as its own last-writer-wins register; the
 * document is derived from the registers and equals applying the patches one after another
 * in stamp order.
 *
 * A register remembers the latest write that touched its path (`s`, with what it did: `k`)
 * and, separately, the latest write that replaced the whole subtree there (`r`): a value or a
 * deletion. Anything below a path that is older than that reset is gone, even if a later
 * patch turned the path back into an object.
 */
export interface MetadataRegister {
  /** stamp of the latest write that touched this path */
  s: Stamp;
  /** what that write did: set a value, delete, or merge into an object */
  k: 'value' | 'delete' | 'object';
  /** the value, when k is 'value' (arrays and scalars are replaced whole, as in RFC 7396) */
  v?: JsonValue;
  /** stamp of the latest value or deletion here: older writes below this path are hidden */
  r?: Stamp;
}

/** Registers keyed by the JSON text of the path's key array; the root is `[]`. */
export type MetadataRegisters = Record<string, MetadataRegister>;

/**
 * The delete registers of deleted keys ("tombstones"), by path key: the stamp of the delete.
 * A tombstone must outlive its key, because an older write of that key may still arrive and
 * must lose (SPEC §4.3); it can be dropped only once an ancestor's reset hides it. So that a
 * customer's cost does not grow with its history of deleted keys, tombstones are not kept in
 * the customer's registers: they are handed out with every patch and stored apart, and a patch
 * is given back the tombstones of the paths it writes (metadataPatchPaths). Nothing is lost,
 * so convergence stays exact.
 */
export type MetadataTombstones = Record<string, Stamp>;

export interface MetadataPatchOutcome {
  /** the registers to store with the customer: the root and the live paths, no tombstones */
  registers: MetadataRegisters;
  /** tombstones this patch created (or moved out of older registers), to store apart */
  tombstones: MetadataTombstones;
}

type Path = readonly string[];

/** The key of the whole document's register (`explain` reads the last `metadata: null` there). */
export const METADATA_ROOT_KEY = '[]';

function pathKey(path: Path): string {
  return JSON.stringify(path);
}

function isJsonObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Equal stamps belong to the same event, which normally means equal writes; if a producer
 * re-used an eventId with other content, the greater canonical form wins so that the outcome
 * still does not depend on arrival order.
 */
function wins(candidate: MetadataRegister, current: MetadataRegister | undefined): boolean {
  if (current === undefined || candidate.s > current.s) return true;
  if (candidate.s < current.s) return false;
  return registerOrderKey(candidate) > registerOrderKey(current);
}

function registerOrderKey(register: MetadataRegister): string {
  return `${register.k}:${canonicalJson(register.v)}`;
}

function tombstoneRegister(stamp: Stamp | undefined): MetadataRegister | undefined {
  // A winning delete's reset is its own stamp (a register's reset is never newer than it).
  return stamp === undefined ? undefined : { s: stamp, k: 'delete', r: stamp };
}

function write(
  registers: MetadataRegisters,
  tombstones: MetadataTombstones,
  path: Path,
  next: MetadataRegister,
): void {
  const key = pathKey(path);
  const current = registers[key] ?? tombstoneRegister(tombstones[key]);
  const reset = maxStamp(current?.r, next.k === 'object' ? undefined : next.s);
  if (wins(next, current)) {
    registers[key] = reset === undefined ? next : { ...next, r: reset };
  } else if (current !== undefined && reset !== current.r && reset !== undefined) {
    // An older value still resets what lies below it, even when it lost the register itself.
    registers[key] = { ...current, r: reset };
  } else if (current !== undefined && registers[key] === undefined) {
    // A tombstone that this write lost to: back among the registers for this patch, so that
    // it hides what the patch writes below it.
    registers[key] = current;
  }
}

function maxStamp(a: Stamp | undefined, b: Stamp | undefined): Stamp | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a > b ? a : b;
}

function writePatch(
  registers: MetadataRegisters,
  tombstones: MetadataTombstones,
  path: Path,
  patch: JsonValue,
  stamp: Stamp,
) {
  if (patch === null) {
    write(registers, tombstones, path, { s: stamp, k: 'delete' });
    return;
  }
  if (!isJsonObject(patch)) {
    write(registers, tombstones, path, { s: stamp, k: 'value', v: patch });
    return;
  }
  write(registers, tombstones, path, { s: stamp, k: 'object' });
  for (const [name, value] of Object.entries(patch)) {
    writePatch(registers, tombstones, [...path, name], value, stamp);
  }
}

/**
 * Applies one event's metadata patch (`null` clears all metadata); the inputs are not modified.
 * `tombstones` are the stored tombstones of (at least) the paths the patch writes
 * (metadataPatchPaths); the outcome's tombstones are the ones to store now, the greater stamp
 * winning where a path already has one. Registers stored before tombstones were kept apart may
 * still hold some: they are moved out here.
 */
export function applyMetadataPatch(
  registers: MetadataRegisters,
  patch: JsonObject | null,
  stamp: Stamp,
  tombstones: MetadataTombstones = {},
): MetadataPatchOutcome {
  const next = { ...registers };
  writePatch(next, tombstones, [], patch, stamp);
  const kept: MetadataRegisters = {};
  const moved: MetadataTombstones = {};
  for (const [key, register] of Object.entries(withoutHiddenRegisters(next))) {
    // The root stays: it always stands for the document, which is an object even when cleared.
    if (register.k !== 'delete' || key === METADATA_ROOT_KEY) kept[key] = register;
    else if (tombstones[key] !== register.s) moved[key] = register.s;
  }
  return { registers: kept, tombstones: moved };
}

/**
 * The path keys whose stored tombstones a patch needs: every path it writes, below the root
 * (RFC 7396: a patch writes each key it names, and each one below an object it names).
 */
export function metadataPatchPaths(patch: JsonObject | null): string[] {
  const paths: string[] = [];
  const visit = (object: JsonObject, path: string[]) => {
    for (const [name, value] of Object.entries(object)) {
      const childPath = [...path, name];
      paths.push(pathKey(childPath));
      if (isJsonObject(value)) visit(value, childPath);
    }
  };
  if (patch !== null) visit(patch, []);
  return paths;
}

/**
 * The registers with their stored tombstones folded back in, hidden ones dropped: the one
 * state that every arrival order of the same writes ends in (SPEC §4.3), whichever of them
 * sit in the registers or apart.
 */
export function foldTombstones(
  registers: MetadataRegisters,
  tombstones: MetadataTombstones,
): MetadataRegisters {
  const all: MetadataRegisters = { ...registers };
  for (const [key, stamp] of Object.entries(tombstones)) {
    const register = tombstoneRegister(stamp);
    if (all[key] === undefined && register !== undefined) all[key] = register;
  }
  return withoutHiddenRegisters(all);
}

interface Node {
  register?: MetadataRegister;
  children: Map<string, Node>;
}

function buildTree(registers: MetadataRegisters): Node {
  const root: Node = { children: new Map() };
  for (const [key, register] of Object.entries(registers)) {
    let node = root;
    for (const name of JSON.parse(key) as string[]) {
      let child = node.children.get(name);
      if (child === undefined) {
        child = { children: new Map() };
        node.children.set(name, child);
      }
      node = child;
    }
    node.register = register;
  }
  return root;
}

/**
 * Walks the tree, calling `visit` for each register that is not hidden by an ancestor's reset;
 * `cut` is the newest reset stamp above the node.
 */
function materialiseNode(node: Node, cut: Stamp | undefined): JsonValue | undefined {
  const register = node.register;
  if (register === undefined || (cut !== undefined && register.s <= cut)) return undefined;
  if (register.k === 'delete') return undefined;
  if (register.k === 'value') return register.v;
  const childCut = maxStamp(cut, register.r);
  const object: JsonObject = {};
  for (const name of [...node.children.keys()].sort()) {
    const child = node.children.get(name);
    const value = child && materialiseNode(child, childCut);
    // defineProperty, not assignment: a key named "__proto__" is data here, not a prototype.
    if (value !== undefined)
      Object.defineProperty(object, name, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
  }
  return object;
}

/** The metadata document the registers stand for: always an object, `{}` when cleared. */
export function materialiseMetadata(registers: MetadataRegisters): JsonObject {
  const root = buildTree(registers);
  const rootRegister = root.register;
  if (rootRegister === undefined) return {};
  // The root is always an object (SPEC §3: null clears metadata, it does not make it null).
  const asObject: Node = { ...root, register: { ...rootRegister, k: 'object' } };
  const value = materialiseNode(asObject, undefined);
  return isJsonObject(value) ? value : {};
}

/**
 * Drops registers that an ancestor's newer reset hides. They can never show again: resets only
 * move forward, and any later write below them rewrites every register on its path.
 */
function withoutHiddenRegisters(registers: MetadataRegisters): MetadataRegisters {
  const kept: MetadataRegisters = {};
  const visit = (node: Node, path: string[], cut: Stamp | undefined) => {
    const register = node.register;
    if (register !== undefined) {
      if (cut !== undefined && register.s <= cut) return;
      // A reset no newer than one above it says nothing more; drop it so equal histories
      // store equal registers.
      const redundantReset = register.r !== undefined && cut !== undefined && register.r <= cut;
      kept[pathKey(path)] = redundantReset ? withoutReset(register) : register;
    }
    const childCut = maxStamp(cut, register?.r);
    for (const [name, child] of node.children) visit(child, [...path, name], childCut);
  };
  visit(buildTree(registers), [], undefined);
  return kept;
}

function withoutReset({ r: _reset, ...register }: MetadataRegister): MetadataRegister {
  return register;
}
