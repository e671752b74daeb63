import { Transform } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

/**
 * Secret redaction: one table of formats (SECRET_FORMATS), applied to every body, file, log copy, abort
 * message, URL and printed line before it leaves the process. Keys and nulls are kept (so "was a key
 * configured?" stays answerable); secret values become REDACTED. Tokenizer identity fields (`eos_token`)
 * and token counts (`max_total_num_tokens`) are not secrets and are kept.
 *
 * Every pattern is linear on hostile input: fixed prefixes, bounded or trailing-free repeats, and hand
 * scans (PEM blocks, JWTs, key=value values) where a regex would backtrack.
 */
export const REDACTED = '<redacted>';

interface FormatBase {
  /** Stable id: each has its own test (test/capture/redact.test.ts). */
  id: string;
  what: string;
}
/** A key name whose value is secret wherever it appears: JSON keys, key=value, `--flag value`, `NAME=value`, headers. */
export interface KeyFormat extends FormatBase {
  kind: 'key';
  /** Tested against the key in snake_case, lower case (`accessToken`, `X-Auth-Token` → `access_token`, `x_auth_token`). */
  key: RegExp;
}
/** A self-identifying credential, found anywhere in text. */
export interface TokenFormat extends FormatBase {
  kind: 'token';
  pattern: RegExp;
  /** The first `keep` characters of a match stay (a readable prefix such as the webhook host). */
  keep?: number;
  /** A literal every match contains: the regex runs only when the text holds one (a 64 MB /metrics stays fast). */
  hint: string[] | RegExp;
}
/** Formats a regex would scan quadratically: found by hand. */
export interface ScanFormat extends FormatBase {
  kind: 'scan';
  redact: (text: string) => string;
}
export type SecretFormat = KeyFormat | TokenFormat | ScanFormat;

const token = (id: string, what: string, pattern: RegExp, opts: { hint: string[] | RegExp; keep?: number }): TokenFormat => ({ kind: 'token', id, what, pattern, ...opts });
const key = (id: string, what: string, re: RegExp): KeyFormat => ({ kind: 'key', id, what, key: re });

const KEY_FORMATS: KeyFormat[] = [
  key('api-key', 'api_key, apiKey, x-api-key, admin_api_key, OPENAI_API_KEY', /(^|_)api_?key$/),
  key('password', 'password, passwd, pwd, passphrase, ssl_keyfile_password, db_password', /(^|_)(password|passwd|pwd|pass|passphrase)$/),
  key('client-secret', 'client_secret, clientSecret, app_secret, webhook_secret, secret', /(^|_)secret$/),
  key('access-token', 'access_token, accessToken, auth_token, bearer_token, private_token', /(^|_)(access|auth|bearer|private|api|personal_access)_token$/),
  key('refresh-token', 'refresh_token, refreshToken', /(^|_)refresh_token$/),
  key('id-token', 'id_token, idToken', /(^|_)id_token$/),
  key('session-token', 'session_token, aws_session_token, x-amz-security-token', /(^|_)(session|security)_token$/),
  key('hf-token', 'hf_token, HF_TOKEN, HUGGING_FACE_HUB_TOKEN', /(^|_)(hf|hub|hugging_face_hub|huggingface)_token$/),
  key('token', 'token, x-auth-token, GITHUB_TOKEN, sas_token, and any other *_token but tokenizer fields', /(^|_)token$/),
  key('aws-access-key-id', 'aws_access_key_id, access_key_id, accessKeyId', /(^|_)access_key_id$/),
  key('aws-secret-access-key', 'aws_secret_access_key, secret_access_key, secretAccessKey, access_key, secret_key', /(^|_)(secret_access_key|access_key|secret_key)$/),
  key('private-key', 'private_key (GCP service accounts), private_key_id, privateKey, client-key-data', /(^|_)(private_key|private_key_id|key_data|signing_key|encryption_key|master_key)$/),
  key('credentials', 'credentials, credential, auth, authorization, proxy-authorization', /(^|_)(credentials?|auth|authorization|proxy_authorization)$/),
  key('cookie', 'Cookie and Set-Cookie headers, cookie fields', /(^|_)(cookie|set_cookie|cookies)$/),
  key('azure-account-key', 'AccountKey, SharedAccessKey, SharedAccessSignature, Ocp-Apim-Subscription-Key, sig=', /(^|_)(account_key|shared_access_key|shared_access_signature|subscription_key|sig)$/),
  key('connection-string', 'connection_string, connectionString, conn_str, dsn, database_url', /(^|_)(connection_string|conn_str|dsn|database_url)$/),
];

const TOKEN_FORMATS: TokenFormat[] = [
  token('aws-access-key-id-value', 'AWS access key ids (AKIA…, ASIA…) anywhere, also bare in a log', /\b(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}\b/g, { hint: ['AKIA', 'ASIA', 'ABIA', 'ACCA', 'A3T'] }),
  token('github-token', 'GitHub tokens ghp_, gho_, ghu_, ghs_, ghr_', /\bgh[pousr]_[A-Za-z0-9]{36,255}\b/g, { hint: ['gh'] }),
  token('github-fine-grained-pat', 'GitHub fine-grained PATs github_pat_…', /\bgithub_pat_[A-Za-z0-9_]{22,255}/g, { hint: ['github_pat_'] }),
  token('gitlab-token', 'GitLab tokens glpat-, gldt-, glrt-, glptt-…', /\bgl(?:pat|dt|rt|ptt|cbt|imt|oas|ft|soat|agent)-[A-Za-z0-9_-]{20,255}/g, { hint: ['gl'] }),
  token('slack-token', 'Slack bot/user tokens xoxb-, xoxp-, xoxa-, xoxo-, xoxs-, xoxr-, xoxe-', /\bxox[abposre](?:\.[A-Za-z0-9-]{1,20})?-[A-Za-z0-9-]{10,255}/g, { hint: ['xox'] }),
  token('slack-app-token', 'Slack app-level tokens xapp-…', /\bxapp-\d-[A-Za-z0-9-]{10,255}/g, { hint: ['xapp-'] }),
  token('slack-webhook', 'Slack incoming webhooks', /\bhttps:\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9_/-]{8,512}/g, { keep: 'https://hooks.slack.com/'.length, hint: ['hooks.slack.com'] }),
  token('discord-webhook', 'Discord webhooks', /\bhttps:\/\/(?:ptb\.|canary\.)?discord(?:app)?\.com\/api\/webhooks\/\d{5,30}\/[A-Za-z0-9_-]{20,255}/g, { keep: 'https://discord.com/api/webhooks/'.length, hint: ['/api/webhooks/'] }),
  token('anthropic-key', 'Anthropic keys sk-ant-…', /\bsk-ant-[A-Za-z0-9_-]{20,512}/g, { hint: ['sk-ant-'] }),
  token('openai-key', 'OpenAI-style keys sk-…, sk-proj-…, sk-svcacct-… (also DeepSeek, many gateways)', /\bsk-[A-Za-z0-9_-]{16,512}/g, { hint: ['sk-'] }),
  token('huggingface-token', 'Hugging Face tokens hf_…', /\bhf_[A-Za-z0-9]{20,255}\b/g, { hint: ['hf_'] }),
  token('huggingface-org-token', 'Hugging Face org tokens api_org_…', /\bapi_org_[A-Za-z0-9]{20,255}\b/g, { hint: ['api_org_'] }),
  token('google-api-key', 'Google API keys AIza…', /\bAIza[0-9A-Za-z_-]{35}/g, { hint: ['AIza'] }),
  token('google-oauth-token', 'Google OAuth access tokens ya29.…', /\bya29\.[0-9A-Za-z_-]{20,2048}/g, { hint: ['ya29.'] }),
  token('google-client-secret', 'Google OAuth client secrets GOCSPX-…', /\bGOCSPX-[A-Za-z0-9_-]{20,64}/g, { hint: ['GOCSPX-'] }),
  token('stripe-key', 'Stripe keys sk_live_, rk_live_, sk_test_…', /\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,255}\b/g, { hint: ['_live_', '_test_'] }),
  token('stripe-webhook-secret', 'Stripe webhook secrets whsec_…', /\bwhsec_[A-Za-z0-9]{20,255}\b/g, { hint: ['whsec_'] }),
  token('twilio-api-key', 'Twilio API key SIDs SK + 32 hex', /\bSK[0-9a-fA-F]{32}\b/g, { hint: ['SK'] }),
  token('sendgrid-key', 'SendGrid keys SG.x.y', /\bSG\.[A-Za-z0-9_-]{16,64}\.[A-Za-z0-9_-]{16,64}/g, { hint: ['SG.'] }),
  token('mailgun-key', 'Mailgun keys key-…', /\bkey-[0-9a-zA-Z]{32}\b/g, { hint: ['key-'] }),
  token('npm-token', 'npm tokens npm_…', /\bnpm_[A-Za-z0-9]{36}\b/g, { hint: ['npm_'] }),
  token('pypi-token', 'PyPI upload tokens pypi-…', /\bpypi-[A-Za-z0-9_-]{50,512}/g, { hint: ['pypi-'] }),
  token('docker-pat', 'Docker Hub PATs dckr_pat_…', /\bdckr_pat_[A-Za-z0-9_-]{20,255}/g, { hint: ['dckr_pat_'] }),
  token('digitalocean-token', 'DigitalOcean tokens dop_v1_, doo_v1_, dor_v1_', /\bdo[por]_v1_[a-f0-9]{64}\b/g, { hint: ['_v1_'] }),
  token('shopify-token', 'Shopify tokens shpat_, shpca_, shppa_, shpss_', /\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b/g, { hint: ['shp'] }),
  token('atlassian-token', 'Atlassian API tokens ATATT…', /\bATATT[A-Za-z0-9_=-]{20,512}/g, { hint: ['ATATT'] }),
  token('databricks-token', 'Databricks tokens dapi…', /\bdapi[a-f0-9]{32}(?:-\d)?\b/g, { hint: ['dapi'] }),
  token('telegram-bot-token', 'Telegram bot tokens 123456789:AA…', /\b\d{8,10}:AA[A-Za-z0-9_-]{33}\b/g, { hint: [':AA'] }),
  token('age-secret-key', 'age secret keys AGE-SECRET-KEY-1…', /\bAGE-SECRET-KEY-1[0-9A-Z]{58}\b/g, { hint: ['AGE-SECRET-KEY-1'] }),
  token('vault-token', 'HashiCorp Vault tokens hvs., hvb., hvr.', /\bhv[sbr]\.[A-Za-z0-9_-]{24,512}/g, { hint: ['hv'] }),
  token('doppler-token', 'Doppler tokens dp.pt., dp.st., dp.sa.', /\bdp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,255}\b/g, { hint: ['dp.'] }),
  token('linear-key', 'Linear API keys lin_api_…', /\blin_api_[A-Za-z0-9]{40}\b/g, { hint: ['lin_api_'] }),
  token('notion-token', 'Notion tokens ntn_…, secret_…', /\b(?:ntn_[A-Za-z0-9]{40,60}|secret_[A-Za-z0-9]{43})\b/g, { hint: ['ntn_', 'secret_'] }),
  token('grafana-token', 'Grafana tokens glsa_, glc_', /\b(?:glsa_[A-Za-z0-9]{32}_[a-f0-9]{8}|glc_[A-Za-z0-9+/=_-]{32,512})/g, { hint: ['glsa_', 'glc_'] }),
  token('newrelic-key', 'New Relic keys NRAK-…', /\bNRAK-[A-Z0-9]{27}\b/g, { hint: ['NRAK-'] }),
  token('azure-ad-client-secret', 'Azure AD client secrets (…Q~…)', /\b[A-Za-z0-9_.-]{3}\dQ~[A-Za-z0-9_.~-]{31,34}/g, { hint: ['Q~'] }),
  token('nvidia-api-key', 'NVIDIA NGC / build keys nvapi-…', /\bnvapi-[A-Za-z0-9_-]{64}/g, { hint: ['nvapi-'] }),
  token('groq-key', 'Groq keys gsk_…', /\bgsk_[A-Za-z0-9]{52}\b/g, { hint: ['gsk_'] }),
  token('replicate-token', 'Replicate tokens r8_…', /\br8_[A-Za-z0-9]{37}\b/g, { hint: ['r8_'] }),
  token('perplexity-key', 'Perplexity keys pplx-…', /\bpplx-[A-Za-z0-9]{48}\b/g, { hint: ['pplx-'] }),
  token('xai-key', 'xAI keys xai-…', /\bxai-[A-Za-z0-9]{80}\b/g, { hint: ['xai-'] }),
  token('langsmith-key', 'LangSmith keys lsv2_pt_…, lsv2_sk_…', /\blsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10}\b/g, { hint: ['lsv2_'] }),
  token('postman-key', 'Postman keys PMAK-…', /\bPMAK-[a-f0-9]{24}-[a-f0-9]{34}\b/g, { hint: ['PMAK-'] }),
  token('sentry-token', 'Sentry auth tokens sntrys_, sntryu_', /\bsntry[su]_[A-Za-z0-9+/=_]{32,512}/g, { hint: ['sntry'] }),
  token('pulumi-token', 'Pulumi tokens pul-…', /\bpul-[a-f0-9]{40}\b/g, { hint: ['pul-'] }),
  token('heroku-key', 'Heroku keys HRKU-…', /\bHRKU-[A-Za-z0-9_-]{20,255}/g, { hint: ['HRKU-'] }),
  token('figma-token', 'Figma tokens figd_…', /\bfigd_[A-Za-z0-9_-]{40,255}/g, { hint: ['figd_'] }),
  token('terraform-token', 'Terraform Cloud tokens …atlasv1…', /\b[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_-]{60,255}/g, { hint: ['atlasv1'] }),
  token('bearer', 'Bearer credentials in any header or text', /\b(?<=Bearer\s{1,8})[A-Za-z0-9._~+/=-]{6,4096}/gi, { hint: /bearer/i }),
];

const SCAN_FORMATS: ScanFormat[] = [
  { kind: 'scan', id: 'pem-private-key', what: 'PEM private keys (RSA, EC, DSA, OPENSSH, ENCRYPTED, PGP), also with escaped newlines', redact: redactPemBlocks },
  { kind: 'scan', id: 'jwt', what: 'JSON Web Tokens eyJ….eyJ….sig', redact: redactJwts },
  { kind: 'scan', id: 'url-userinfo', what: 'URL credentials scheme://user:PASSWORD@host, ://:password@, and long userinfo tokens (Sentry DSN)', redact: redactUrlCredentials },
  { kind: 'scan', id: 'basic-auth', what: 'Basic credentials (base64 user:password)', redact: redactBasic },
  { kind: 'scan', id: 'netrc', what: '.netrc lines: machine H login U password P', redact: (t) => t.replace(NETRC, (_m, head: string) => `${head}${REDACTED}`) },
  { kind: 'scan', id: 'secret-flag', what: 'command-line flags named like a secret: --api-key X, --auth-token=X, --client-secret "X"', redact: redactCommandFlags },
  { kind: 'scan', id: 'secret-key-value', what: 'key=value, key: value, "key": "value", \\"key\\": \\"value\\" (escaped JSON in a log line), NAME=value, headers to end of line', redact: redactKeyValues },
];

export const SECRET_FORMATS: readonly SecretFormat[] = [...SCAN_FORMATS, ...KEY_FORMATS, ...TOKEN_FORMATS];

/** Tokenizer identity fields that end in `token` but are not secrets. */
const TOKENIZER_KEY = /^(pad|eos|bos|unk|sep|cls|mask|start|end|image|video|audio|vision_start|vision_end|special|additional_special|chat_template_default)_token(s)?$/;
/** Counting words: `max_new_tokens`, `num_token`, `token_usage` are not secrets. */
const COUNT_KEY = /(^|_)(num|max|min|total|prompt|completion|cached|input|output|new|used|pending|generated|reasoning|extra|special)_tokens?$/;

function snakeKey(k: string): string {
  return k.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/[-.\s]+/g, '_').toLowerCase();
}

const secretKeyMemo = new Map<string, boolean>();

export function isSecretKey(k: string): boolean {
  if (k.length > 128) return false;
  const known = secretKeyMemo.get(k);
  if (known !== undefined) return known;
  const s = snakeKey(k.replace(/^-+/, ''));
  const secret = !TOKENIZER_KEY.test(s) && !COUNT_KEY.test(s) && KEY_FORMATS.some((f) => f.key.test(s));
  // Keys repeat (every /metrics line has the same labels); the memo is bounded so hostile keys cannot grow it.
  if (secretKeyMemo.size < 10_000) secretKeyMemo.set(k, secret);
  return secret;
}

/**
 * A number under a `token` key is a count, not a credential: SGLang logs "#token: 1234" and "#full token: 5678"
 * (`pool_stats_observer.py`). Passwords and secrets stay redacted whatever they look like.
 */
const TOKEN_COUNT_KEY = /(^|_)token$/;
const NUMBER_VALUE = /^-?\d{1,20}(?:\.\d{1,20})?(?![\w.-])/;
function isTokenCount(name: string, value: string | number): boolean {
  return TOKEN_COUNT_KEY.test(snakeKey(name)) && (typeof value === 'number' || NUMBER_VALUE.test(value));
}

/** Values left alone: nulls/booleans, env references (`$VAR`, `${VAR}`): no secret in them. */
const KEEP_VALUE = /^(?:(?:None|null|true|false|True|False|undefined)(?![\w-])|\$\{?[A-Za-z_][A-Za-z0-9_]*\}?(?![\w-]))/;
/** Keys whose value runs to the end of the line (header values hold spaces and `;`). */
const WHOLE_LINE_KEY = /^(authorization|proxy_authorization|cookie|set_cookie)$/;
const AUTH_SCHEME = /^(?:Bearer|Basic|Token|Digest|Negotiate|NTLM|AWS4-HMAC-SHA256|ApiKey|Key)[ \t]{1,8}/i;

/** Redacts secrets in free text: launch commands, log lines, error messages, URLs. */
export function redactText(text: string): string {
  if (!text) return text;
  let out = text;
  for (const f of SCAN_FORMATS) out = f.redact(out);
  for (const f of TOKEN_FORMATS) {
    if (Array.isArray(f.hint) ? !f.hint.some((h) => out.includes(h)) : !f.hint.test(out)) continue;
    f.pattern.lastIndex = 0;
    out = out.replace(f.pattern, (m: string) => (f.keep ? `${m.slice(0, f.keep)}${REDACTED}` : REDACTED));
  }
  return out;
}

/** A URL for printing: credentials in userinfo and secret query parameters removed. */
export function redactUrl(url: string): string {
  return redactText(url);
}

const NETRC = /(\bmachine[ \t]+\S{1,256}[ \t]+login[ \t]+\S{1,256}[ \t]+password[ \t]+)\S{1,1024}/g;

function redactBasic(text: string): string {
  return text.replace(/\b(Basic[ \t]{1,8})([A-Za-z0-9+/]{8,4096}={0,2})/g, (m, prefix: string, cred: string) =>
    // "Basic configuration" is prose; "Basic dXNlcjpwYXNz" is a credential (digit, +/=, or inner capital).
    /[0-9+/=]/.test(cred) || /[A-Z]/.test(cred.slice(1)) ? `${prefix}${REDACTED}` : m,
  );
}

const PEM_BEGIN = /-----BEGIN ([A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?)-----/g;

/** From each BEGIN … PRIVATE KEY marker to its END marker (or the end of the text when cut off). */
function redactPemBlocks(text: string): string {
  if (!text.includes('PRIVATE KEY')) return text;
  let out = '';
  let copied = 0;
  PEM_BEGIN.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = PEM_BEGIN.exec(text)) !== null) {
    const endMarker = `-----END ${m[1]}-----`;
    const bodyStart = m.index + m[0].length;
    const end = text.indexOf(endMarker, bodyStart);
    out += `${text.slice(copied, bodyStart)}${REDACTED}`;
    if (end === -1) return out;
    copied = end;
    PEM_BEGIN.lastIndex = end + endMarker.length;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

const isB64Url = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 95;

/** eyJ<header>.<payload>.<signature>: one pass, each run of base64url characters read once. */
function redactJwts(text: string): string {
  if (!text.includes('eyJ')) return text;
  let out = '';
  let copied = 0;
  let i = text.indexOf('eyJ');
  while (i !== -1) {
    if (i > 0 && isB64Url(text.charCodeAt(i - 1))) {
      i = text.indexOf('eyJ', i + 3);
      continue;
    }
    let j = i;
    const segments: number[] = [];
    for (let seg = 0; seg < 3; seg++) {
      const start = j;
      while (j < text.length && isB64Url(text.charCodeAt(j))) j++;
      segments.push(j - start);
      if (seg < 2) {
        if (text.charCodeAt(j) !== 46) break;
        j++;
      }
    }
    if (segments.length === 3 && segments[0]! >= 8 && segments[1]! >= 8) {
      out += `${text.slice(copied, i)}${REDACTED}`;
      copied = j;
    }
    i = text.indexOf('eyJ', Math.max(j, i + 3));
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/** scheme://user:password@ → scheme://user:<redacted>@; scheme://<long token>@ → scheme://<redacted>@. */
function redactUrlCredentials(text: string): string {
  if (!text.includes('://')) return text;
  return text
    .replace(/(\b[a-z][a-z0-9+.-]{0,30}:\/\/)([^/\s:@"'<>]{0,256}):([^/\s@"'<>]{1,1024})@/gi, (_m, scheme: string, user: string) => `${scheme}${user}:${REDACTED}@`)
    .replace(/(\b[a-z][a-z0-9+.-]{0,30}:\/\/)([A-Za-z0-9._~-]{16,1024})@/gi, (_m, scheme: string) => `${scheme}${REDACTED}@`);
}

/**
 * `key='v'`, `key="v"`, `"key": "v"`, `\"key\": \"v\"`, `key: v`, `NAME=v` inside text (Python reprs, JSON,
 * escaped JSON in log lines, YAML-ish logs, URL queries, env assignments). Only the key and separator are
 * matched by the regex (bounded, no nested quantifiers); the value is scanned by hand.
 */
const KEY_VALUE = /(?<![\w-])(\\{0,3}["']|)([A-Za-z][\w.-]{0,63})\1[ \t]{0,8}[:=][ \t]{0,8}/g;
const UNQUOTED_VALUE_END = /[\s,;&)}\]'"\\]/;

function redactKeyValues(text: string): string {
  KEY_VALUE.lastIndex = 0;
  const lineEnd = lineEnds(text);
  let out = '';
  let copied = 0;
  let m: RegExpExecArray | null;
  while ((m = KEY_VALUE.exec(text)) !== null) {
    let valueStart = m.index + m[0].length;
    const name = m[2]!;
    if (valueStart >= text.length || !isSecretKey(name)) continue;
    // Header syntax (`Cookie: a=1; b=2`) runs to the end of the line; `cookie=v` is one value.
    const wholeLine = !m[0].includes('=') && WHOLE_LINE_KEY.test(snakeKey(name));
    // The opening quote of the value, possibly backslash-escaped (escaped JSON inside a log line).
    let q = '';
    const open = /^\\{0,3}["']/.exec(text.slice(valueStart, valueStart + 4));
    if (open) q = open[0];
    const contentStart = valueStart + q.length;
    let rest = text.slice(contentStart, contentStart + 80);
    if (KEEP_VALUE.test(rest) || rest.startsWith(REDACTED) || isTokenCount(name, rest)) continue;
    let keepPrefix = 0;
    if (wholeLine) {
      const scheme = AUTH_SCHEME.exec(rest);
      if (scheme) {
        keepPrefix = scheme[0].length;
        rest = rest.slice(keepPrefix);
        if (KEEP_VALUE.test(rest) || rest.startsWith(REDACTED)) continue;
      }
    }
    let valueEnd: number;
    const eol = lineEnd(contentStart);
    if (q) {
      const close = text.indexOf(q, contentStart);
      valueEnd = close !== -1 && close < eol ? close : eol;
    } else if (wholeLine) {
      valueEnd = eol;
    } else {
      valueEnd = contentStart;
      while (valueEnd < text.length && !UNQUOTED_VALUE_END.test(text[valueEnd]!)) valueEnd++;
      if (valueEnd === contentStart) continue;
    }
    valueStart = contentStart + keepPrefix;
    out += `${text.slice(copied, valueStart)}${REDACTED}`;
    copied = valueEnd;
    KEY_VALUE.lastIndex = valueEnd;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/**
 * End of the line at `from`: a newline, or a literal `\n` / `\r` escape (a line inside a JSON string).
 * Callers ask with growing `from`; the last answer is reused while `from` stays on that line, so a text
 * of many matches and no newline is still read once.
 */
function lineEnds(text: string): (from: number) => number {
  let lineFrom = -1;
  let lineTo = -1;
  return (from) => {
    if (from >= lineFrom && from <= lineTo) return lineTo;
    let end = text.length;
    for (const stop of ['\n', '\r', '\\n', '\\r']) {
      const i = text.indexOf(stop, from);
      if (i !== -1 && i < end) end = i;
    }
    lineFrom = from;
    lineTo = end;
    return end;
  };
}

const PROSE_WORD = /^(to|or|and|is|are|the|in|on|for|with|a|an|not|was|be|if|when|set|unset|enable|enabled|disable|disabled|required|missing|flag|option|value|instead)[.,;:]?$/i;

/** A command-line flag at the start of a word. */
const FLAG = /(?<!\S)(--?[A-Za-z][\w-]{0,120})(?=[=\s]|$)/g;

/** `--api-key X`, `--auth-token=X`, `--client-secret "X Y"` → value replaced, flag kept. */
function redactCommandFlags(text: string): string {
  if (!text.includes('-')) return text;
  FLAG.lastIndex = 0;
  const lineEnd = lineEnds(text);
  let out = '';
  let copied = 0;
  let m: RegExpExecArray | null;
  while ((m = FLAG.exec(text)) !== null) {
    const flag = m[1]!;
    if (!isSecretKey(flag)) continue;
    const after = m.index + flag.length;
    const assigned = text[after] === '=';
    let valueStart = after + 1;
    if (!assigned) {
      valueStart = after;
      while (valueStart < text.length && /\s/.test(text[valueStart]!)) valueStart++;
      if (valueStart === after || valueStart >= text.length) continue;
    }
    const q = text[valueStart];
    let valueEnd = valueStart;
    if (q === '"' || q === "'") {
      const close = text.indexOf(q, valueStart + 1);
      const eol = lineEnd(valueStart);
      valueEnd = close !== -1 && close < eol ? close + 1 : eol;
    } else {
      while (valueEnd < text.length && !/\s/.test(text[valueEnd]!)) valueEnd++;
    }
    const value = text.slice(valueStart, valueEnd);
    if (!value || value.startsWith(REDACTED) || KEEP_VALUE.test(value.replace(/^["']/, ''))) continue;
    // Prose such as "Restart with --admin-api-key to enable" names the flag without a value; so does a next flag.
    if (!assigned && (PROSE_WORD.test(value) || /^--?[A-Za-z]/.test(value))) continue;
    out += `${text.slice(copied, valueStart)}${REDACTED}`;
    copied = valueEnd;
    FLAG.lastIndex = valueEnd;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/** Redacts a JSON-shaped value without recursion (bounded by an explicit stack), returning a copy. */
export function redactValue<T>(value: T): T {
  const root = { v: value as unknown };
  const out: { v: unknown } = { v: undefined };
  const stack: Array<{ from: Record<string | number, unknown>; to: Record<string | number, unknown>; key: string | number; parentKey: string | null }> = [
    { from: root, to: out, key: 'v', parentKey: null },
  ];
  while (stack.length) {
    const { from, to, key, parentKey } = stack.pop()!;
    const current = from[key];
    let copy: unknown;
    if (
      parentKey !== null &&
      isSecretKey(parentKey) &&
      current !== null &&
      current !== undefined &&
      typeof current !== 'boolean' &&
      !(typeof current === 'string' && (current === '' || KEEP_VALUE.test(current))) &&
      !((typeof current === 'number' || typeof current === 'string') && isTokenCount(parentKey, current))
    ) {
      copy = REDACTED;
    } else if (typeof current === 'string') {
      copy = parentKey !== null && CONFIG_STRING_KEY.test(parentKey) ? redactConfigString(current) : redactText(current);
    } else if (Array.isArray(current)) {
      const arr: unknown[] = new Array(current.length);
      for (let i = current.length - 1; i >= 0; i--) stack.push({ from: current as unknown as Record<number, unknown>, to: arr as unknown as Record<number, unknown>, key: i, parentKey });
      copy = arr;
    } else if (current && typeof current === 'object') {
      // A null-prototype copy keeps `__proto__` as data.
      const obj: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
      const keys = Object.keys(current);
      for (let i = keys.length - 1; i >= 0; i--) stack.push({ from: current as Record<string, unknown>, to: obj, key: keys[i]!, parentKey: keys[i]! });
      copy = obj;
    } else {
      copy = current;
    }
    to[key] = copy;
  }
  return out.v as T;
}

/** Keys whose string values are JSON or key=value configs that may embed credentials. */
const CONFIG_STRING_KEY = /(extra_config|_config_json|kv_events_config|tool_server|storage_backend_extra_config|_config)$/i;

/** A config stored as a string: JSON → redact its keys; otherwise treat as text. */
export function redactConfigString(text: string): string {
  const trimmed = text.trim();
  if ((trimmed.startsWith('{') || trimmed.startsWith('[')) && trimmed.length < 4 * 1024 * 1024) {
    try {
      return JSON.stringify(redactValue(JSON.parse(trimmed)));
    } catch {
      // Not JSON after all: fall through to text rules.
    }
  }
  return redactText(text).replace(/(\b[\w.-]{0,64}(?:key|token|secret|password)[\w.-]{0,64}[ \t]{0,8}[:=][ \t]{0,8})("[^"\n]{0,4096}"|'[^'\n]{0,4096}'|[^\s,;}]{1,4096})/gi, (m, head: string, value: string) =>
    value.startsWith(REDACTED) || value.startsWith(`"${REDACTED}`) || value.startsWith(`'${REDACTED}`) ? m : `${head}${REDACTED}`,
  );
}

/**
 * Redacts a text stream of any size (log copies), line by line, with `redactText`. A PEM private key spans
 * lines: from a BEGIN … PRIVATE KEY line to its END line every line is replaced. A line longer than
 * `maxLineChars` is redacted in pieces cut at whitespace, so memory stays bounded.
 */
export function createRedactStream(options: { maxLineChars?: number } = {}): Transform {
  const maxLine = options.maxLineChars ?? 1024 * 1024;
  let pending = '';
  let pemEnd: string | null = null;
  const decoder = new StringDecoder('utf8');
  const redactLine = (line: string): string => {
    if (pemEnd !== null) {
      const end = line.indexOf(pemEnd);
      if (end === -1) return line.length ? REDACTED : line;
      const rest = line.slice(end);
      pemEnd = null;
      return redactLine(rest);
    }
    const out = redactText(line);
    PEM_BEGIN.lastIndex = 0;
    let m: RegExpExecArray | null;
    let last: RegExpExecArray | null = null;
    while ((m = PEM_BEGIN.exec(line)) !== null) last = m;
    if (last && !line.includes(`-----END ${last[1]}-----`, last.index)) pemEnd = `-----END ${last[1]}-----`;
    return out;
  };
  // Where the newline search resumes: what was already searched is not searched again (small chunks, long lines).
  let scanned = 0;
  const drain = (push: (s: string) => void, final: boolean) => {
    let start = 0;
    let nl: number;
    while ((nl = pending.indexOf('\n', Math.max(start, scanned))) !== -1) {
      push(`${redactLine(pending.slice(start, nl))}\n`);
      start = nl + 1;
    }
    pending = start ? pending.slice(start) : pending;
    scanned = pending.length;
    while (pending.length > maxLine) {
      const ws = pending.lastIndexOf(' ', maxLine);
      const cut = ws > maxLine / 2 ? ws + 1 : maxLine;
      push(redactLine(pending.slice(0, cut)));
      pending = pending.slice(cut);
      scanned = pending.length;
    }
    if (final && pending) {
      push(redactLine(pending));
      pending = '';
    }
  };
  return new Transform({
    transform(chunk: Buffer | string, _enc, done) {
      pending += typeof chunk === 'string' ? chunk : decoder.write(chunk);
      drain((s) => this.push(s), false);
      done();
    },
    flush(done) {
      pending += decoder.end();
      drain((s) => this.push(s), true);
      done();
    },
  });
}
