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
});
