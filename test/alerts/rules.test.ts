import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/tmp.js';

const RULES = path.join(REPO_ROOT, 'examples/alerts/sglang.rules.yml');
/** Metric names read from SGLang's metrics_collector.py at a recorded commit (see the file's header). */
const KNOWN = JSON.parse(readFileSync(path.join(REPO_ROOT, 'examples/alerts/sglang-metrics.json'), 'utf8')) as {
  commit: string;
  file: string;
  metrics: Record<string, 'gauge' | 'counter' | 'histogram' | 'summary'>;
  notFromSglang: Record<string, string>;
};

interface Rule {
  alert: string;
  expr: string;
  for: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

const PROMQL_WORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'offset', 'bool']);

/**
 * The metric names a PromQL expression selects: what is left once strings, label matchers,
 * ranges, grouping clauses, function calls, keywords and numbers are taken out.
 */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\boffset\s+\d+[smhdwy]/g, ' ');
  const names = new Set<string>();
  for (const m of stripped.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const word = m[0];
    // A word followed by "(" is a function (rate, sum, histogram_quantile).
    const next = stripped.slice((m.index ?? 0) + word.length).trimStart();
    if (next.startsWith('(') || PROMQL_WORDS.has(word)) continue;
    names.add(word);
  }
  return [...names];
}

/** `x_bucket` of a histogram `x` is the histogram; SGLang's source names the base. */
function baseName(name: string): string {
  const hist = /^(.*)_(bucket|sum|count)$/.exec(name);
  if (hist && KNOWN.metrics[hist[1]!] === 'histogram') return hist[1]!;
  return name;
}

describe('examples/alerts/sglang.rules.yml', () => {
  const doc = parseYaml(readFileSync(RULES, 'utf8')) as { groups: Array<{ name: string; rules: Rule[] }> };
  const rules = doc.groups.flatMap((g) => g.rules);

  it('is a Prometheus rule file whose alerts all carry a server label, a severity and a summary', () => {
    expect(doc.groups.length).toBeGreaterThan(0);
    for (const group of doc.groups) expect(group.name).toMatch(/\S/);
    for (const rule of rules) {
      expect(Object.keys(rule).sort()).toEqual(['alert', 'annotations', 'expr', 'for', 'labels']);
      expect(rule.alert).toMatch(/^[A-Za-z][A-Za-z0-9]*$/);
      expect(rule.for).toMatch(/^\d+[smh]$/);
      expect(['page', 'warn']).toContain(rule.labels.severity);
      expect(rule.annotations.summary).toContain('{{ $labels.server }}');
      // Every aggregation keeps `server`: the bot's receiver reads it (servers.yaml alerts.serverLabel).
      const aggregations = [...rule.expr.matchAll(/\b(?:sum|max|min|avg)\s+by\s*\(([^)]*)\)/g)].map((m) => m[1]!.split(',').map((l) => l.trim()));
      expect(aggregations.length).toBeGreaterThan(0);
      for (const labels of aggregations) expect(labels).toContain('server');
    }
  });

  it('covers TTFT p99, queue depth, token usage, the health probe and throughput collapse', () => {
    const used = new Set(rules.flatMap((r) => metricNames(r.expr).map(baseName)));
    for (const metric of ['sglang:time_to_first_token_seconds', 'sglang:num_queue_reqs', 'sglang:token_usage', 'probe_success', 'sglang:gen_throughput']) expect(used).toContain(metric);
    expect(rules.find((r) => r.expr.includes('time_to_first_token'))?.expr).toMatch(/histogram_quantile\(0\.99,/);
  });

  it(`names only metrics that SGLang's source defines (${KNOWN.file} @ ${KNOWN.commit.slice(0, 12)}), or Prometheus's own`, () => {
    expect(Object.keys(KNOWN.metrics).length).toBeGreaterThan(50);
    for (const rule of rules) {
      const names = metricNames(rule.expr);
      expect(names.length).toBeGreaterThan(0);
      for (const name of names) {
        const base = baseName(name);
        if (base.startsWith('sglang:')) expect(KNOWN.metrics, `${rule.alert}: ${name}`).toHaveProperty([base]);
        else expect(KNOWN.notFromSglang, `${rule.alert}: ${name}`).toHaveProperty([base]);
        // A histogram is only ever read through its series (_bucket/_sum/_count).
        if (KNOWN.metrics[base] === 'histogram') expect(name).not.toBe(base);
      }
    }
  });

  it('the name extractor reads selectors, not functions, labels or keywords', () => {
    expect(metricNames('histogram_quantile(0.99, sum by (server, le) (rate(sglang:x_bucket{job="a"}[5m]))) > 2').sort()).toEqual(['sglang:x_bucket']);
    expect(metricNames('sum by (server) (a) < 0.2 * avg_over_time(b[1h] offset 15m) and on (server) c > 0').sort()).toEqual(['a', 'b', 'c']);
  });

  it('promtool accepts it when promtool is installed (Debian: apt-get install prometheus)', () => {
    let promtool: string | null = null;
    try {
      promtool = execFileSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' }).trim() || null;
    } catch {
      promtool = null;
    }
    // Without promtool the structural checks above are the check; with it, Prometheus's own parser too.
    if (!promtool) return;
    const out = execFileSync(promtool, ['check', 'rules', RULES], { encoding: 'utf8' });
    expect(out).toContain(`SUCCESS: ${rules.length} rules found`);
  });
});
