/** The replay engine's input: defined beside the dump loader that produces it (layers import downward). */
export type { ReplayRequest } from '../evidence/dump/model.js';
