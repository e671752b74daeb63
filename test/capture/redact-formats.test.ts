import { describe, expect, it } from 'vitest';
import { REDACTED, SECRET_FORMATS, isSecretKey, redactText, redactValue } from '../../src/sglang/redact.js';

/**
 * One case per secret format in SECRET_FORMATS (src/sglang/redact.ts). Credentials are built here from
 * repeated filler so that no real-looking token sits in the repository; each has the exact shape its
 * issuer documents. `keep` lists text that must survive redaction.
 */
interface Case {
  text: string;
  secrets: string[];
  keep?: string[];
  /** Key names (any spelling) whose value redactValue must hide. */
  keys?: string[];
}

const r = (unit: string, n: number) => unit.repeat(n);
const PEM_BODY = `MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC${r('q7', 30)}`;

const CASES: Record<string, Case[]> = {
  // --- key names ---------------------------------------------------------------------------------
  'api-key': [{ text: 'OPENAI_API_KEY=abc123secret python serve.py', secrets: ['abc123secret'], keep: ['OPENAI_API_KEY=', 'python serve.py'], keys: ['api_key', 'apiKey', 'x-api-key', 'X-Api-Key', 'admin_api_key', 'OPENAI_API_KEY'] }],
  password: [{ text: 'db:\n  password: hunter2xyz\n  host: db1', secrets: ['hunter2xyz'], keep: ['host: db1'], keys: ['password', 'passwd', 'pwd', 'db_password', 'dbPassword', 'ssl_keyfile_password', 'passphrase'] }],
  'client-secret': [{ text: 'oauth clientSecret="s3cr3tvalue" clientId="app-1"', secrets: ['s3cr3tvalue'], keep: ['clientId="app-1"'], keys: ['client_secret', 'clientSecret', 'webhook_secret', 'secret'] }],
  'access-token': [{ text: '{"accessToken": "at-123456", "expiresIn": 3600}', secrets: ['at-123456'], keep: ['"expiresIn": 3600'], keys: ['access_token', 'accessToken', 'auth_token', 'authToken', 'bearer_token', 'private_token'] }],
  'refresh-token': [{ text: 'refreshToken=rt-98765&scope=all', secrets: ['rt-98765'], keep: ['scope=all'], keys: ['refresh_token', 'refreshToken'] }],
  'id-token': [{ text: "id_token='idt.abc.def'", secrets: ['idt.abc.def'], keys: ['id_token', 'idToken'] }],
  'session-token': [{ text: 'X-Amz-Security-Token: FwoGZXIvYXdzEBYaD', secrets: ['FwoGZXIvYXdzEBYaD'], keys: ['aws_session_token', 'sessionToken', 'X-Amz-Security-Token'] }],
  'hf-token': [{ text: 'HUGGING_FACE_HUB_TOKEN=abcdefgh1234 sglang serve', secrets: ['abcdefgh1234'], keys: ['hf_token', 'HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN'] }],
  token: [{ text: 'X-Auth-Token: tok-abcdef\nHost: a', secrets: ['tok-abcdef'], keep: ['Host: a'], keys: ['token', 'x-auth-token', 'GITHUB_TOKEN', 'sas_token'] }],
  'aws-access-key-id': [{ text: 'aws_access_key_id = EXAMPLEKEYID123', secrets: ['EXAMPLEKEYID123'], keys: ['aws_access_key_id', 'access_key_id', 'accessKeyId'] }],
  'aws-secret-access-key': [{ text: 'aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY region=us-east-1', secrets: ['wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'], keep: ['region=us-east-1'], keys: ['aws_secret_access_key', 'secretAccessKey', 'secret_key', 'access_key'] }],
  'private-key': [{ text: '"private_key_id": "0123456789abcdef0123456789abcdef01234567", "client_email": "sa@p.iam.gserviceaccount.com"', secrets: ['0123456789abcdef0123456789abcdef01234567'], keep: ['"client_email": "sa@p.iam.gserviceaccount.com"'], keys: ['private_key', 'private_key_id', 'privateKey', 'client-key-data'] }],
  credentials: [{ text: 'Proxy-Authorization: Digest username="a", response="6629fae49393a05397450978507c4ef1"\nVia: x', secrets: ['6629fae49393a05397450978507c4ef1', 'username="a"'], keep: ['Proxy-Authorization: Digest', 'Via: x'], keys: ['credentials', 'auth', 'authorization', 'Proxy-Authorization'] }],
  cookie: [
    { text: 'Cookie: session=abc123; csrftoken=def456\nAccept: */*', secrets: ['abc123', 'def456'], keep: ['Cookie: ', 'Accept: */*'], keys: ['Cookie', 'Set-Cookie', 'cookies'] },
    { text: 'Set-Cookie: sid=xyz789; Path=/; HttpOnly', secrets: ['xyz789'] },
  ],
  'azure-account-key': [
    {
      text: `DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;EndpointSuffix=core.windows.net`,
      secrets: ['Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='],
      keep: ['AccountName=acct', 'EndpointSuffix=core.windows.net'],
      keys: ['AccountKey', 'SharedAccessKey', 'Ocp-Apim-Subscription-Key'],
    },
    { text: 'https://acct.blob.core.windows.net/c/b?sv=2022-11-02&se=2026-12-01&sig=Zm9vYmFyc2lnbmF0dXJl%3D', secrets: ['Zm9vYmFyc2lnbmF0dXJl'], keep: ['sv=2022-11-02'] },
  ],
  'connection-string': [{ text: 'connection_string: Server=tcp:db;Password=pw1', secrets: ['Server=tcp:db', 'pw1'], keys: ['connection_string', 'connectionString', 'dsn', 'DATABASE_URL'] }],

  // --- self-identifying tokens -------------------------------------------------------------------
  'aws-access-key-id-value': [{ text: '2026-11-28 INFO botocore: using key AKIAIOSFODNN7EXAMPLE for s3', secrets: ['AKIAIOSFODNN7EXAMPLE'], keep: ['for s3'] }],
  'github-token': [{ text: `git clone https://x:ghp_${r('aB3d', 9)}@github.com/o/r and gho_${r('Zz90', 9)}`, secrets: [`ghp_${r('aB3d', 9)}`, `gho_${r('Zz90', 9)}`] }],
  'github-fine-grained-pat': [{ text: `token github_pat_11ABCDEFG0${r('x', 59)} ok`, secrets: [`github_pat_11ABCDEFG0${r('x', 59)}`] }],
  'gitlab-token': [{ text: `PRIVATE glpat-${r('Ab1_', 5)}`, secrets: [`glpat-${r('Ab1_', 5)}`] }],
  'slack-token': [{ text: `bot xoxb-123456789012-1234567890123-${r('a', 24)} user xoxp-1-2-3-${r('b', 30)}`, secrets: [`xoxb-123456789012-1234567890123-${r('a', 24)}`, `xoxp-1-2-3-${r('b', 30)}`] }],
  'slack-app-token': [{ text: `SLACK_APP=xapp-1-A0123456789-1234567890123-${r('f', 64)}`, secrets: [`${r('f', 64)}`] }],
  'slack-webhook': [{ text: `posting to https://hooks.slack.com/services/T00000000/B00000000/${r('X', 24)}`, secrets: [`B00000000/${r('X', 24)}`], keep: ['https://hooks.slack.com/'] }],
  'discord-webhook': [{ text: `https://discord.com/api/webhooks/123456789012345678/${r('a', 68)}`, secrets: [r('a', 68)], keep: ['https://discord.com/api/webhooks/'] }],
  'anthropic-key': [{ text: `key sk-ant-api03-${r('a', 40)}`, secrets: [`sk-ant-api03-${r('a', 40)}`] }],
  'openai-key': [{ text: `request abc aborted: invalid api_key=sk-proj-${r('A1', 20)} (401)`, secrets: [`sk-proj-${r('A1', 20)}`], keep: ['(401)', 'request abc aborted'] }],
  'huggingface-token': [{ text: `Loading Qwen/Qwen3-8B with hf_${r('aBcD', 8)} from the hub`, secrets: [`hf_${r('aBcD', 8)}`], keep: ['Qwen/Qwen3-8B', 'from the hub'] }],
  'huggingface-org-token': [{ text: `org api_org_${r('a1', 15)}`, secrets: [`api_org_${r('a1', 15)}`] }],
  'google-api-key': [{ text: `maps AIza${r('S', 35)} end`, secrets: [`AIza${r('S', 35)}`] }],
  'google-oauth-token': [{ text: `gcloud ya29.${r('a0AfH6', 6)}`, secrets: [`ya29.${r('a0AfH6', 6)}`] }],
  'google-client-secret': [{ text: `secret GOCSPX-${r('a', 28)}`, secrets: [`GOCSPX-${r('a', 28)}`] }],
  'stripe-key': [{ text: `stripe sk_live_${r('a1', 12)} rk_test_${r('b2', 12)}`, secrets: [`sk_live_${r('a1', 12)}`, `rk_test_${r('b2', 12)}`] }],
  'stripe-webhook-secret': [{ text: `whsec_${r('a', 32)}`, secrets: [`whsec_${r('a', 32)}`] }],
  'twilio-api-key': [{ text: `twilio SK${r('0123456789abcdef', 2)}`, secrets: [`SK${r('0123456789abcdef', 2)}`] }],
  'sendgrid-key': [{ text: `SG.${r('a', 22)}.${r('b', 43)}`, secrets: [r('b', 43)] }],
  'mailgun-key': [{ text: `mailgun key-${r('0a', 16)}`, secrets: [`key-${r('0a', 16)}`] }],
  'npm-token': [{ text: `//registry.npmjs.org/:_authToken npm_${r('a', 36)}`, secrets: [`npm_${r('a', 36)}`] }],
  'pypi-token': [{ text: `twine pypi-AgEIcHlwaS5vcmc${r('A', 60)}`, secrets: [`pypi-AgEIcHlwaS5vcmc${r('A', 60)}`] }],
  'docker-pat': [{ text: `docker login -p dckr_pat_${r('a', 27)}`, secrets: [`dckr_pat_${r('a', 27)}`] }],
  'digitalocean-token': [{ text: `dop_v1_${r('a', 64)}`, secrets: [`dop_v1_${r('a', 64)}`] }],
  'shopify-token': [{ text: `shpat_${r('a', 32)}`, secrets: [`shpat_${r('a', 32)}`] }],
  'atlassian-token': [{ text: `jira ATATT3xFfGF0${r('a', 40)}`, secrets: [`ATATT3xFfGF0${r('a', 40)}`] }],
  'databricks-token': [{ text: `dapi${r('a', 32)}`, secrets: [`dapi${r('a', 32)}`] }],
  'telegram-bot-token': [{ text: `bot 123456789:AA${r('a', 33)} online`, secrets: [`AA${r('a', 33)}`] }],
  'age-secret-key': [{ text: `AGE-SECRET-KEY-1${r('Q', 58)}`, secrets: [r('Q', 58)] }],
  'vault-token': [{ text: `VAULT hvs.${r('a', 24)}`, secrets: [`hvs.${r('a', 24)}`] }],
  'doppler-token': [{ text: `dp.pt.${r('a', 43)}`, secrets: [`dp.pt.${r('a', 43)}`] }],
  'linear-key': [{ text: `lin_api_${r('a', 40)}`, secrets: [`lin_api_${r('a', 40)}`] }],
  'notion-token': [{ text: `ntn_${r('a', 46)} and secret_${r('b', 43)}`, secrets: [`ntn_${r('a', 46)}`, `secret_${r('b', 43)}`] }],
  'grafana-token': [{ text: `glsa_${r('a', 32)}_${r('0', 8)}`, secrets: [`glsa_${r('a', 32)}`] }],
  'newrelic-key': [{ text: `NRAK-${r('A', 27)}`, secrets: [`NRAK-${r('A', 27)}`] }],
  'azure-ad-client-secret': [{ text: `AZURE_CLIENT abc8Q~${r('a', 34)}`, secrets: [`abc8Q~${r('a', 34)}`] }],
  'nvidia-api-key': [{ text: `nvapi-${r('a', 64)}`, secrets: [`nvapi-${r('a', 64)}`] }],
  'groq-key': [{ text: `gsk_${r('a', 52)}`, secrets: [`gsk_${r('a', 52)}`] }],
  'replicate-token': [{ text: `r8_${r('a', 37)}`, secrets: [`r8_${r('a', 37)}`] }],
  'perplexity-key': [{ text: `pplx-${r('a', 48)}`, secrets: [`pplx-${r('a', 48)}`] }],
  'xai-key': [{ text: `xai-${r('a', 80)}`, secrets: [`xai-${r('a', 80)}`] }],
  'langsmith-key': [{ text: `lsv2_pt_${r('a', 32)}_${r('b', 10)}`, secrets: [`lsv2_pt_${r('a', 32)}`] }],
  'postman-key': [{ text: `PMAK-${r('a', 24)}-${r('b', 34)}`, secrets: [r('b', 34)] }],
  'sentry-token': [{ text: `sntrys_${r('a', 40)}`, secrets: [`sntrys_${r('a', 40)}`] }],
  'pulumi-token': [{ text: `pul-${r('a', 40)}`, secrets: [`pul-${r('a', 40)}`] }],
  'heroku-key': [{ text: `HRKU-${r('a', 30)}`, secrets: [`HRKU-${r('a', 30)}`] }],
  'figma-token': [{ text: `figd_${r('a', 40)}`, secrets: [`figd_${r('a', 40)}`] }],
  'terraform-token': [{ text: `${r('a', 14)}.atlasv1.${r('b', 67)}`, secrets: [r('b', 67)] }],
  bearer: [{ text: 'upstream sent Bearer abc.def-123456 to the router', secrets: ['abc.def-123456'], keep: ['Bearer ', 'to the router'] }],

  // --- hand-scanned formats ----------------------------------------------------------------------
  'pem-private-key': [
    { text: `key:\n-----BEGIN RSA PRIVATE KEY-----\n${PEM_BODY}\n-----END RSA PRIVATE KEY-----\nafter`, secrets: [PEM_BODY], keep: ['-----BEGIN RSA PRIVATE KEY-----', 'after'] },
    // A GCP service-account file, as a JSON string (escaped newlines), cut off before its END line.
    { text: `{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----\\n${PEM_BODY}\\n`, secrets: [PEM_BODY], keep: ['"type": "service_account"'] },
    { text: `-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA${r('Q', 40)}\n-----END OPENSSH PRIVATE KEY-----`, secrets: [`b3BlbnNzaC1rZXktdjEAAAAA${r('Q', 40)}`] },
  ],
  jwt: [{ text: 'cookie jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U done', secrets: ['eyJzdWIiOiIxMjM0NTY3ODkwIn0', 'dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U'], keep: ['done'] }],
  'url-userinfo': [
    { text: 'triage capture http://user:PASSWORD@10.0.0.5:30000/', secrets: ['PASSWORD'], keep: ['http://user:', '@10.0.0.5:30000/'] },
    { text: 'REDIS_URL=redis://:hunter2pw@redis:6379/0', secrets: ['hunter2pw'], keep: ['@redis:6379/0'] },
    { text: 'mongodb+srv://app:m0ngoPw@cluster0.example.net/db', secrets: ['m0ngoPw'] },
    { text: 'sentry init https://0123456789abcdef0123456789abcdef@o123.ingest.sentry.io/42', secrets: ['0123456789abcdef0123456789abcdef'], keep: ['o123.ingest.sentry.io/42'] },
  ],
  'basic-auth': [{ text: 'proxy replied to Basic dXNlcjpwYXNzd29yZA== with 407', secrets: ['dXNlcjpwYXNzd29yZA=='], keep: ['with 407'] }],
  netrc: [{ text: 'machine api.example.com login bob password hunter2secret', secrets: ['hunter2secret'], keep: ['login bob'] }],
  'secret-flag': [
    { text: 'python -m sglang.launch_server --model-path Qwen/Qwen3-8B --auth-token abc123tok --client-secret=xyz789 --api-key "a b c" --tp 2', secrets: ['abc123tok', 'xyz789', 'a b c'], keep: ['--model-path Qwen/Qwen3-8B', '--auth-token ', '--client-secret=', '--tp 2'] },
  ],
  'secret-key-value': [
    // Backslash-escaped JSON inside a log line.
    { text: 'ERROR request body: {\\"api_key\\": \\"plainsecret42\\", \\"model\\": \\"m\\"}', secrets: ['plainsecret42'], keep: ['\\"model\\": \\"m\\"'] },
    { text: "ServerArgs(model_path='Qwen/Qwen3-8B', admin_api_key='adm1n-key', tp_size=2)", secrets: ['adm1n-key'], keep: ["model_path='Qwen/Qwen3-8B'", 'tp_size=2'] },
    { text: 'GET /v1/x?access_token=qs-secret-1&page=2', secrets: ['qs-secret-1'], keep: ['page=2'] },
  ],
};

describe('every secret format has a test and is redacted', () => {
  it('the table and the cases name the same formats (at least 64)', () => {
    const ids = SECRET_FORMATS.map((f) => f.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBeGreaterThanOrEqual(64);
    expect(Object.keys(CASES).sort()).toEqual([...ids].sort());
  });

  for (const format of SECRET_FORMATS) {
    it(`${format.id}: ${format.what}`, () => {
      for (const c of CASES[format.id] ?? []) {
        const out = redactText(c.text);
        for (const secret of c.secrets) expect(out, `${format.id} leaked "${secret}" from ${c.text}`).not.toContain(secret);
        expect(out).toContain(REDACTED);
        for (const k of c.keep ?? []) expect(out, `${format.id} lost "${k}"`).toContain(k);
        // Idempotent: redacting twice changes nothing more.
        expect(redactText(out)).toBe(out);
        for (const name of c.keys ?? []) {
          expect(isSecretKey(name), name).toBe(true);
          expect(redactValue({ [name]: 'v4lue-SECRET', model: 'm' })).toEqual({ [name]: REDACTED, model: 'm' });
          expect(redactText(`${name}=v4lue-SECRET rest`)).toBe(`${name}=${REDACTED} rest`);
        }
      }
    });
  }
});

describe('what is not a secret survives', () => {
  it('tokenizer fields, token counts and SGLang metric and log text are kept', () => {
    const fields = {
      pad_token: '<pad>', eos_token: '</s>', bos_token: '<s>', padTokenId: 0, max_new_tokens: 128, num_tokens: 5, token_usage: 0.4, prompt_tokens: 3,
      tokenizer_path: 'Qwen/Qwen3-8B', tokenizer_mode: 'auto', skip_tokenizer_init: false, max_total_num_tokens: 412345, served_model_name: 'Qwen/Qwen3-8B',
      cached_tokens: 1, token: 17, admin_api_key: null, api_key: '$SGLANG_API_KEY', hf_token: '',
    };
    expect(redactValue(fields)).toEqual(fields);
    for (const line of [
      'Decode batch, #running-req: 12, #token: 4567, token usage: 0.35, #full token: 1200, gen throughput (token/s): 812.40, #queue-req: 0',
      'sglang:num_used_tokens{engine_type="unified",model_name="Qwen/Qwen3-8B",tp_rank="0"} 123.0',
      'python -m sglang.launch_server --tokenizer-path Qwen/Qwen3-8B --max-total-tokens 4096 --enable-metrics --api-key "$SGLANG_API_KEY"',
      'curl -H "Authorization: Bearer $SGLANG_BEARER_TOKEN" http://127.0.0.1:30000/health',
      'Restart with --admin-api-key to enable.',
      'Basic configuration works; see the task-queue-processor-abcdefghij docs',
      'http://10.0.0.5:30000/v1/loads?include=all',
    ]) {
      expect(redactText(line), line).toBe(line);
    }
  });

  it('a JSON-string config (hicache extra config) with an AWS key id inside is redacted, its endpoint kept', () => {
    const out = redactValue({ hicache_storage_backend_extra_config: JSON.stringify({ endpoint: 's3://bucket', aws_access_key_id: 'AKIAIOSFODNN7EXAMPLE', access_key_id: 'k1' }) });
    expect(out.hicache_storage_backend_extra_config).not.toMatch(/AKIAIOSFODNN7EXAMPLE|"k1"/);
    expect(out.hicache_storage_backend_extra_config).toContain('s3://bucket');
  });

  it('__proto__ stays data', () => {
    const parsed = JSON.parse('{"__proto__": {"api_key": "x"}, "a": 1}');
    const out = redactValue(parsed) as Record<string, unknown>;
    expect(Object.keys(out)).toEqual(['__proto__', 'a']);
    expect(JSON.stringify(out)).toBe(`{"__proto__":{"api_key":"${REDACTED}"},"a":1}`);
  });
});

describe('linear on hostile input', () => {
  it('every format returns on 1 MiB runs of its own prefix and separators', () => {
    const n = 1024 * 1024;
    const units = new Set<string>(['eyJ-', 'eyJa.', '-----BEGIN PRIVATE KEY-----', 'x://a:', '\\"api_key\\": \\"', 'Authorization: ', '#token: ', 'a:b@', 'machine a login b password ']);
    for (const c of Object.values(CASES).flat()) units.add(c.text.slice(0, 12));
    for (const unit of units) {
      const line = unit.repeat(Math.ceil(n / unit.length));
      expect(typeof redactText(line)).toBe('string');
    }
  });
});

describe('createRedactStream (log copies of any size)', () => {
  it('redacts line by line, a PEM key across lines, and a line longer than its buffer', async () => {
    const { createRedactStream } = await import('../../src/sglang/redact.js');
    const { Readable } = await import('node:stream');
    const { text } = await import('node:stream/consumers');
    const long = `${'x '.repeat(300_000)}api_key=longline-secret-1 ${'y '.repeat(10)}`;
    const log = [
      '[2026-11-28 01:00:00] server_args=ServerArgs(api_key=\'sk-abcdefghijklmnop1234\', tp_size=2)',
      '-----BEGIN PRIVATE KEY-----',
      'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC',
      'BKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj',
      '-----END PRIVATE KEY-----',
      'boto: AKIAIOSFODNN7EXAMPLE',
      long,
      'Decode batch, #running-req: 1, #token: 77, token usage: 0.01',
    ].join('\n');
    // Cut into 7-byte chunks so lines, keys and UTF-8 never arrive whole.
    const bytes = Buffer.from(log);
    const chunks: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 7) chunks.push(bytes.subarray(i, i + 7));
    const out = await text(Readable.from(chunks).pipe(createRedactStream({ maxLineChars: 64 * 1024 })));
    for (const secret of ['sk-abcdefghijklmnop1234', 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC', 'BKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj', 'AKIAIOSFODNN7EXAMPLE', 'longline-secret-1']) expect(out).not.toContain(secret);
    expect(out).toContain('tp_size=2');
    expect(out).toContain('-----END PRIVATE KEY-----');
    expect(out).toContain('#token: 77');
    expect(out.split('\n')).toHaveLength(log.split('\n').length);
  });
});
