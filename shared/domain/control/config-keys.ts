/**
 * The shape of a managed config key (control-chain §5.3) and the builders both registry files use. Kept apart from
 * `config-registry.ts` so the chain keys (`config-registry-chains.ts`) can use them without an import cycle.
 */

export type ConfigType = 'int' | 'float' | 'bool' | 'enum' | 'string' | 'date';
export type ConfigScope = 'var' | 'session';
export type ConfigValue = number | boolean | string;

export interface ConfigKeyDef {
  readonly key: string;
  readonly type: ConfigType;
  /** `null`: unset by default (the rule is off, or the owning chain computes the default). */
  readonly default: ConfigValue | null;
  readonly min?: number;
  readonly max?: number;
  /** Bounds are inclusive. `minOf`: at least `factor` × another key, checked on the whole snapshot. */
  readonly minOf?: { readonly key: string; readonly factor: number };
  readonly values?: readonly string[];
  readonly scopes?: readonly ConfigScope[];
  /** `live`: processes pick the change up within 5 s; `restart`: it applies when the process restarts. */
  readonly apply?: 'live' | 'restart';
  readonly description: string;
  /**
   * Set on a key the spec registers but no code of this version reads, saying why (control-chain pitfall 15: no
   * setting that silently does nothing). The schema, the effective view, the CLI and the Config page show it, and
   * `tests/unit/config/registry-readers.test.ts` fails when a key is read without this being removed, or unread without it.
   */
  readonly unused?: string;
}

/** A builder of key definitions of one type: `(key, default, description, bounds and options)`. */
function keyOf<T extends ConfigValue>(type: ConfigType) {
  return (key: string, def: T | null, description: string, b: Partial<ConfigKeyDef> = {}): ConfigKeyDef => ({
    key,
    type,
    default: def,
    description,
    ...b,
  });
}

export const int = keyOf<number>('int');
export const float = keyOf<number>('float');
export const bool = keyOf<boolean>('bool');
