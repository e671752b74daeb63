/**
 * One dumped request: its `/generate` body (what a trusted replay POSTs) and the facts a summary needs
 * (rid, stream, input kind, recorded tokens, finished or not).
 */
import { TriageError } from '../../errors.js';
import { redactText } from '../../sglang/redact.js';
import {
  asNumber,
  asString,
  attr,
  isText,
  pickleToJson,
  PyObject,
  sequenceItems,
  textLength,
  textPreview,
  type JsonValue,
  type PickleValue,
  type PyDict,
} from '../pickle/index.js';

export const PREVIEW_CHARS = 160;
const MEDIA_FIELDS = new Set(['image_data', 'video_data', 'audio_data']);
/** Media lists nest a few levels (per request, per item); deeper is left as is. */
const MAX_MEDIA_DEPTH = 16;

export interface RequestFacts {
  /** The request id when it is one string (a batch carries a list). */
  rid: string | null;
  /** What to call the request in a summary: its rid, or a batch's rids joined. */
  label: string | null;
  stream: boolean;
  input: 'text' | 'input_ids' | 'batch' | 'input_embeds' | 'none';
  inputSize: number;
  preview: string;
  unfinished: boolean;
  finishReason: string | null;
  promptTokens: number | null;
  completionTokens: number | null;
}

/** The request object's attribute dict: dataclass fields, a plain dict, or a pydantic model's __dict__. */
function requestFields(req: PickleValue): PyDict | null {
  const fields = req instanceof PyObject ? (req.fields ?? req.dictItems) : req instanceof Map ? req : null;
  const inner = fields?.get('__dict__');
  return inner instanceof Map ? inner : fields;
}

/**
 * The POST /generate body: every non-None field (dataclasses as their fields, enums as their values,
 * bytes as base64), with image/video/audio items that are `{"url": ...}` replaced by the URL — the
 * conversion the trusted replay script applies.
 */
export function toGenerateBody(req: PickleValue): Record<string, JsonValue> {
  const fields = requestFields(req);
  if (!fields) {
    const what = req instanceof PyObject ? req.className : typeof req;
    throw new TriageError('E_BAD_INPUT', `dumped request is not a dataclass or dict (${what})`);
  }
  const body: Record<string, JsonValue> = {};
  for (const [key, value] of fields) {
    if (typeof key !== 'string' || value === null) continue;
    const json = pickleToJson(value, { records: 'fields', bytes: 'base64' });
    const normalised = MEDIA_FIELDS.has(key) ? mediaUrls(json, 0) : json;
    if (key === '__proto__') Object.defineProperty(body, key, { value: normalised, enumerable: true, writable: true, configurable: true });
    else body[key] = normalised;
  }
  return body;
}

function mediaUrls(value: JsonValue, depth: number): JsonValue {
  if (depth > MAX_MEDIA_DEPTH) return value;
  if (Array.isArray(value)) return value.map((item) => mediaUrls(item, depth + 1));
  if (value && typeof value === 'object' && 'url' in value) return value.url ?? null;
  return value;
}

/** What a summary says about one record, without decoding long prompts. */
export function requestFacts(req: PickleValue, out: PickleValue): RequestFacts {
  const fields = requestFields(req);
  const get = (name: string): PickleValue | undefined => fields?.get(name);
  const text = get('text');
  const ids = get('input_ids');
  let input: RequestFacts['input'] = 'none';
  let inputSize = 0;
  let preview = '';
  const textItems = sequenceItems(text);
  const idItems = sequenceItems(ids);
  if (isText(text)) {
    input = 'text';
    inputSize = textLength(text);
    preview = textPreview(text, PREVIEW_CHARS) ?? '';
  } else if (textItems) {
    input = 'batch';
    inputSize = textItems.reduce((n: number, t) => n + textLength(t), 0);
    preview = `[${textItems.length} prompts] ${textPreview(textItems[0], PREVIEW_CHARS) ?? ''}`;
  } else if (idItems) {
    const nested = idItems.length > 0 && sequenceItems(idItems[0]) !== null;
    input = nested ? 'batch' : 'input_ids';
    inputSize = nested ? idItems.reduce((n: number, row) => n + (sequenceItems(row)?.length ?? 0), 0) : idItems.length;
    preview = nested ? `[${idItems.length} prompts of input ids]` : `[${idItems.length} input ids]`;
  } else if (get('input_embeds') !== undefined && get('input_embeds') !== null) {
    input = 'input_embeds';
    preview = '[input embeddings]';
  }

  const outs = sequenceItems(out) ?? (out instanceof Map || out instanceof PyObject ? [out] : []);
  const metas = outs.map((o) => attr(o, 'meta_info'));
  const reasons = metas.map((m) => attr(m, 'finish_reason') ?? null);
  const unfinished = outs.length === 0 || reasons.some((r) => r === null);
  const rid = asString(get('rid')) ?? null;
  const rids = sequenceItems(get('rid'))?.map((r) => asString(r)).filter((r): r is string => r !== undefined);
  return {
    rid,
    label: rid ?? (rids && rids.length ? rids.join(',') : null),
    stream: get('stream') === true,
    input,
    inputSize,
    preview: redactText(preview.length > PREVIEW_CHARS ? preview.slice(0, PREVIEW_CHARS) : preview),
    unfinished,
    finishReason: describeFinish(reasons[0] ?? null),
    promptTokens: sumOf(metas, 'prompt_tokens'),
    completionTokens: sumOf(metas, 'completion_tokens'),
  };
}

/** {"type": "abort", "message": "..."} → "abort: ..."; {"type": "stop", ...} → "stop". */
function describeFinish(reason: PickleValue): string | null {
  if (reason === null) return null;
  const type = asString(attr(reason, 'type')) ?? asString(reason);
  if (!type) return 'unknown';
  const message = asString(attr(reason, 'message'));
  return message ? `${type}: ${message.slice(0, 200)}` : type;
}

function sumOf(metas: Array<PickleValue | undefined>, key: string): number | null {
  let total: number | null = null;
  for (const meta of metas) {
    const n = asNumber(attr(meta, key));
    if (n === undefined) return null;
    total = (total ?? 0) + n;
  }
  return total;
}
