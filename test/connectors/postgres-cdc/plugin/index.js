// A plugin.path module for in-process workers started from the TypeScript sources (vitest): the
// runtime registers connectors/postgres-* by themselves only when their compiled index.js exists.
import { plugins as cdc } from '../../../../connectors/postgres-cdc/index.js';
import { plugins as sink } from '../../../../connectors/postgres-sink/index.js';

export const plugins = [...cdc, ...sink];
