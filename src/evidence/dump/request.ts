/**
 * One dumped request: its `/generate` body (what a trusted replay POSTs) and the facts a summary needs
 * (rid, stream, input kind, recorded tokens, finished or not).
 */
import { TriageError } from '../../errors.js';
import { redactText } from '../../sglang/redact.js';
import {
  asNumber,
  attr,
  isText,
  measureJson,
  pickleToJson,
  PyObject,
  PyText,
  sequenceItems,
  textLength,
  textPreview,
  type DecodeBudget,
  type JsonValue,
  type PickleValue,
  type PyDict,
} from '../pickle/index.js';

export const PREVIEW_CHARS = 160;
/** Longest rid kept (a hostile dump may carry a 512 MiB one); longer ones are cut and marked. */
export const MAX_RID_CHARS = 256;
/** Longest abort message kept in a summary. */
const MAX_MESSAGE_CHARS = 200;
/**
 * Fields of the dumped request that are not part of what the client sent. `received_time`: SGLang
 * takes it as the request's creation time (tokenizer_manager.py `_init_req_state`: `created_time =
 * obj.received_time`; io_struct.py GenerateReqInput.received_time), so resending the recorded one
 * would make the target's TTFT and queue time count from the original incident.
 */
const NOT_RESENT = new Set(['received_time']);
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

/** Bounds of one /generate body (on top of the load's shared budget). */
const BODY_LIMITS = { records: 'fields', bytes: 'base64', maxDepth: 256 } as const;

/** The fields of a dumped request that go into its body, or an E_BAD_INPUT saying why there are none. */
function bodyFields(req: PickleValue): PyDict {
  const fields = requestFields(req);
  if (!fields) {
    const what = req instanceof PyObject ? req.className : req === null ? 'None' : typeof req;
    throw new TriageError('E_BAD_INPUT', `dumped request is not a dataclass or dict (${what})`);
  }
  return fields;
}

function sent(key: PickleValue, value: PickleValue): key is string {
  return typeof key === 'string' && value !== null && !NOT_RESENT.has(key);
}

/**
 * What building this request's body will cost, charged to the load's budget now (so a memo bomb
 * ends the load with E_LIMIT before anything is sent). Throws E_BAD_INPUT for a record that has no
 * body, E_LIMIT past a bound.
 */
export function measureGenerateBody(req: PickleValue, budget: DecodeBudget | undefined, what: string): number {
  const fields: PyDict = new Map();
  for (const [key, value] of bodyFields(req)) if (sent(key, value)) fields.set(key, value);
  // One walk over all fields (a dict of them), with the bounds each field gets when it is built.
  return measureJson(fields, { ...BODY_LIMITS, maxDepth: BODY_LIMITS.maxDepth + 1, ...(budget ? { budget } : {}), what });
}

/**
 * The POST /generate body: every non-None field (dataclasses as their fields, enums as their values,
 * bytes as base64), with image/video/audio items that are `{"url": ...}` replaced by the URL — the
 * conversion the trusted replay script applies — minus what SGLang sets on arrival (NOT_RESENT).
 */
export function toGenerateBody(req: PickleValue, options: { budget?: DecodeBudget; what?: string } = {}): Record<string, JsonValue> {
  const body = Object.create(null) as Record<string, JsonValue>;
  for (const [key, value] of bodyFields(req)) {
    if (!sent(key, value)) continue;
    const json = pickleToJson(value, { ...BODY_LIMITS, ...options });
    body[key] = MEDIA_FIELDS.has(key) ? mediaUrls(json, 0) : json;
  }
  return body;
}

/** A str value cut to `max` characters (marked with its full size), never decoding more than that. */
export function boundedText(value: PickleValue | undefined, max: number): string | undefined {
  if (typeof value === 'string') return value.length <= max ? value : `${value.slice(0, max)}…(${value.length} chars)`;
  if (value instanceof PyText) {
    const head = value.preview(max + 1);
    return head.length <= max ? head : `${head.slice(0, max)}…(${value.byteLength} bytes)`;
  }
  return undefined;
}

function mediaUrls(value: JsonValue, depth: number): JsonValue {
  if (depth > MAX_MEDIA_DEPTH) return value;
  if (Array.isArray(value)) return value.map((item) => mediaUrls(item, depth + 1));
  if (value && typeof value === 'object' && 'url' in value) return value.url ?? null;
  return value;
}

/**
 * What a summary says about one record, without decoding long prompts. `preview: false` skips the
 * prompt preview (and its redaction), which the replay does not need.
 */
export function requestFacts(req: PickleValue, out: PickleValue, options: { preview?: boolean } = {}): RequestFacts {
  const withPreview = options.preview !== false;
  const fields = requestFields(req);
  const get = (name: string): PickleValue | undefined => fields?.get(name);
  const text = get('text');
  const ids = get('input_ids');
  let input: RequestFacts['input'] = 'none';
  let inputSize = 0;
  const textItems = sequenceItems(text);
  const idItems = sequenceItems(ids);
  if (isText(text)) {
    input = 'text';
    inputSize = textLength(text);
  } else if (textItems) {
    input = 'batch';
    inputSize = textItems.reduce((n: number, t) => n + textLength(t), 0);
  } else if (idItems) {
    const nested = idItems.length > 0 && sequenceItems(idItems[0]) !== null;
    input = nested ? 'batch' : 'input_ids';
    inputSize = nested ? idItems.reduce((n: number, row) => n + (sequenceItems(row)?.length ?? 0), 0) : idItems.length;
  } else if (get('input_embeds') !== undefined && get('input_embeds') !== null) {
    input = 'input_embeds';
  }
  const preview = withPreview ? requestPreview(req) : '';

  const outs = sequenceItems(out) ?? (out instanceof Map || out instanceof PyObject ? [out] : []);
  const metas = outs.map((o) => attr(o, 'meta_info'));
  const reasons = metas.map((m) => attr(m, 'finish_reason') ?? null);
  const unfinished = outs.length === 0 || reasons.some((r) => r === null);
  const rid = boundedText(get('rid'), MAX_RID_CHARS) ?? null;
  const rids = sequenceItems(get('rid'))
    ?.slice(0, 16)
    .map((r) => boundedText(r, MAX_RID_CHARS))
    .filter((r): r is string => r !== undefined);
  const ridCount = sequenceItems(get('rid'))?.length ?? 0;
  const joined = rids && rids.length ? `${rids.join(',')}${ridCount > rids.length ? `,…(${ridCount} rids)` : ''}` : null;
  return {
    rid,
    label: rid ?? (joined !== null ? boundedText(joined, MAX_RID_CHARS)! : null),
    stream: get('stream') === true,
    input,
    inputSize,
    preview,
    unfinished,
    finishReason: describeFinish(reasons[0] ?? null),
    promptTokens: sumOf(metas, 'prompt_tokens'),
    completionTokens: sumOf(metas, 'completion_tokens'),
  };
}

/** The first PREVIEW_CHARS characters of the prompt (or its shape), secrets redacted. */
export function requestPreview(req: PickleValue): string {
  const preview = rawPreview(req);
  return preview && redactText(preview);
}

/** requestPreview before redaction (a summary redacts all its previews in one batch). */
export function rawPreview(req: PickleValue): string {
  const fields = requestFields(req);
  const text = fields?.get('text');
  const textItems = sequenceItems(text);
  const idItems = sequenceItems(fields?.get('input_ids'));
  let preview = '';
  if (isText(text)) preview = textPreview(text, PREVIEW_CHARS) ?? '';
  else if (textItems) preview = `[${textItems.length} prompts] ${textPreview(textItems[0], PREVIEW_CHARS) ?? ''}`;
  else if (idItems) preview = idItems.length > 0 && sequenceItems(idItems[0]) !== null ? `[${idItems.length} prompts of input ids]` : `[${idItems.length} input ids]`;
  else if (fields?.get('input_embeds') !== undefined && fields?.get('input_embeds') !== null) preview = '[input embeddings]';
  return preview.length > PREVIEW_CHARS ? preview.slice(0, PREVIEW_CHARS) : preview;
}

/** {"type": "abort", "message": "..."} → "abort: ..." (secrets redacted); {"type": "stop", ...} → "stop". */
function describeFinish(reason: PickleValue): string | null {
  if (reason === null) return null;
  const type = boundedText(attr(reason, 'type'), 64) ?? boundedText(reason, 64);
  if (!type) return 'unknown';
  const message = boundedText(attr(reason, 'message'), MAX_MESSAGE_CHARS);
  return redactFinish(message ? `${type}: ${message}` : type);
}

/** Finish reasons repeat ("length", "stop") across thousands of records: redact each distinct one once. */
const finishRedacted = new Map<string, string>();
function redactFinish(text: string): string {
  let out = finishRedacted.get(text);
  if (out === undefined) {
    out = redactText(text);
    if (finishRedacted.size >= 1000) finishRedacted.clear();
    finishRedacted.set(text, out);
  }
  return out;
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
