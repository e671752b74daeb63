import { describe, expect, it } from 'vitest';
import { REDACTED, redactConfigString, redactText, redactValue } from '../../src/sglang/redact.js';

describe('secret redaction', () => {
  it('redacts secret keys in server_info, keeping nulls so "configured?" stays answerable', () => {
    const out = redactValue({ api_key: 'sk-1', admin_api_key: null, ssl_keyfile_password: 'pw', tp_size: 2, max_total_num_tokens: 5, token_usage: 0.4, internal_states: [{ api_key: 'sk-2' }] });
    expect(out).toEqual({ api_key: REDACTED, admin_api_key: null, ssl_keyfile_password: REDACTED, tp_size: 2, max_total_num_tokens: 5, token_usage: 0.4, internal_states: [{ api_key: REDACTED }] });
  });

  it('redacts tokens inside JSON-string configs such as hicache_storage_backend_extra_config', () => {
    const out = redactValue({ hicache_storage_backend_extra_config: JSON.stringify({ endpoint: 'http://s3', access_key: 'AKIA', nested: { token: 't0k' } }) });
    const cfg = JSON.parse(out.hicache_storage_backend_extra_config);
    expect(cfg).toEqual({ endpoint: 'http://s3', access_key: REDACTED, nested: { token: REDACTED } });
    expect(redactConfigString('endpoint=s3://x password=hunter2 region=eu')).not.toContain('hunter2');
  });

  it('redacts --api-key style flags in launch commands, in both forms', () => {
    const cmd = 'python -m sglang.launch_server --model-path Qwen/Qwen3-8B --api-key sk-abc123 --admin-api-key=adm-999 --ssl-keyfile-password "pw" --tp 2';
    const out = redactText(cmd);
    expect(out).not.toMatch(/sk-abc123|adm-999|"pw"/);
    expect(out).toContain('--api-key <redacted>');
    expect(out).toContain('--admin-api-key=<redacted>');
    expect(out).toContain('--model-path Qwen/Qwen3-8B');
    expect(out).toContain('--tp 2');
  });

  it('redacts HF tokens, env assignments, bearer headers and URL credentials', () => {
    const text = 'HF_TOKEN=hf_abcdefghijklmnopqrstuvwxyz0123 python x --hf-token hf_zzzzzzzzzzzzzzzzzzzzzzzz Authorization: Bearer abcdef123456 https://user:pass@host/x';
    const out = redactText(text);
    expect(out).not.toMatch(/hf_abcdef|hf_zzzz|abcdef123456|:pass@/);
  });

  it('leaves prose that merely names a flag readable', () => {
    expect(redactText('Restart with --admin-api-key to enable.')).toBe('Restart with --admin-api-key to enable.');
  });

  it('handles deep structures without recursion', () => {
    let deep: unknown = { api_key: 'x' };
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(() => redactValue(deep)).not.toThrow();
  });
  it('redacts lowercase key=value pairs inside the SGLang ServerArgs repr, keeping None and model_path', () => {
    const line = "server_args=ServerArgs(model_path='Qwen/Qwen3-8B', api_key='sk-secret123', admin_api_key='adm1n', ssl_keyfile_password='pw', hf_token=None, tp_size=2)";
    const out = redactText(line);
    expect(out).not.toMatch(/sk-secret123|adm1n|'pw'/);
    expect(out).toContain("model_path='Qwen/Qwen3-8B'");
    expect(out).toContain(`api_key='${REDACTED}'`);
    expect(out).toContain('hf_token=None');
    expect(out).toContain('tp_size=2');
  });

  it('redacts JSON and colon-style secrets inside text', () => {
    expect(redactText('body {"api_key": "sk-secret123", "model": "m"}')).toBe(`body {"api_key": "${REDACTED}", "model": "m"}`);
    expect(redactText('token: abc12345')).toBe(`token: ${REDACTED}`);
    expect(redactText('x-api-key: s3cret')).not.toContain('s3cret');
  });

  it('redacts hyphenated secret keys in values', () => {
    expect(redactValue({ 'x-api-key': 's3cret', 'content-type': 'json' })).toEqual({ 'x-api-key': REDACTED, 'content-type': 'json' });
  });

  it('hides the whole quoted value of a secret flag', () => {
    const out = redactText('launch --api-key "a b c" --tp 2');
    expect(out).toBe(`launch --api-key ${REDACTED} --tp 2`);
    expect(redactText("launch --api-key 'x y' --tp 2")).toBe(`launch --api-key ${REDACTED} --tp 2`);
  });

  it('redacts sk- keys and Basic credentials but not prose', () => {
    const out = redactText('key sk-abcdefghijklmnop1234 and Authorization: Basic dXNlcjpwYXNzd29yZA==');
    expect(out).not.toMatch(/sk-abcdefghijklmnop1234|dXNlcjpwYXNzd29yZA/);
    expect(out).toContain(`Basic ${REDACTED}`);
    expect(redactText('Basic configuration works')).toBe('Basic configuration works');
  });

  it('keeps tokenizer identity fields and token counts', () => {
    const v = { pad_token: '<pad>', eos_token: '</s>', bos_token: '<s>', unk_token: '<unk>', sep_token: '[SEP]', cls_token: '[CLS]', mask_token: '[MASK]', pad_token_id: 0, eos_token_id: 2, max_total_num_tokens: 5, token_usage: 0.4, prompt_tokens: 3, completion_tokens: 4, cached_tokens: 1 };
    expect(redactValue(v)).toEqual(v);
    const text = "pad_token='<pad>' eos_token=\"</s>\" bos_token_id=1 max_total_num_tokens=5 token_usage=0.4 prompt_tokens: 3, completion_tokens: 4, cached_tokens: 1";
    expect(redactText(text)).toBe(text);
  });

  it('returns on 2 MB adversarial lines (no catastrophic backtracking)', () => {
    const n = 2 * 1024 * 1024;
    for (const unit of ['a=', ' ', '"', "'", 'a="', "api_key='", 'a= ', '--api-key "', 'token: ', 'Basic ', 'sk-']) {
      const line = unit.repeat(Math.ceil(n / unit.length));
      const out = redactText(line);
      expect(typeof out).toBe('string');
      if (['a=', ' ', '"', "'", 'a="', 'a= '].includes(unit)) expect(out).toBe(line);
    }
    expect(redactText('a'.repeat(n) + ' api_key=zzz')).toBe('a'.repeat(n) + ` api_key=${REDACTED}`);
  });
});
