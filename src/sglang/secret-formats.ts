/**
 * Which keys and which token shapes are secrets: the key names and self-identifying credential formats of
 * the redaction table, and the fields that look secret but are not (tokenizer identity fields, token
 * counts, env references). `redact.ts` applies them, with its hand scans, to text and values.
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

export const KEY_FORMATS: KeyFormat[] = [
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

export const TOKEN_FORMATS: TokenFormat[] = [
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

/** Tokenizer identity fields that end in `token` but are not secrets. */
const TOKENIZER_KEY = /^(pad|eos|bos|unk|sep|cls|mask|start|end|image|video|audio|vision_start|vision_end|special|additional_special|chat_template_default)_token(s)?$/;
/** Counting words: `max_new_tokens`, `num_token`, `token_usage` are not secrets. */
const COUNT_KEY = /(^|_)(num|max|min|total|prompt|completion|cached|input|output|new|used|pending|generated|reasoning|extra|special)_tokens?$/;

export function snakeKey(k: string): string {
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
export function isTokenCount(name: string, value: string | number): boolean {
  return TOKEN_COUNT_KEY.test(snakeKey(name)) && (typeof value === 'number' || NUMBER_VALUE.test(value));
}

/** Values left alone: nulls/booleans, env references (`$VAR`, `${VAR}`): no secret in them. */
export const KEEP_VALUE = /^(?:(?:None|null|true|false|True|False|undefined)(?![\w-])|\$\{?[A-Za-z_][A-Za-z0-9_]*\}?(?![\w-]))/;
/** Keys whose value runs to the end of the line (header values hold spaces and `;`). */
export const WHOLE_LINE_KEY = /^(authorization|proxy_authorization|cookie|set_cookie)$/;
export const AUTH_SCHEME = /^(?:Bearer|Basic|Token|Digest|Negotiate|NTLM|AWS4-HMAC-SHA256|ApiKey|Key)[ \t]{1,8}/i;

