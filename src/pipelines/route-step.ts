import type { NamedServer, Registry } from '../config/servers.js';
import { findServer } from '../config/servers.js';
import { FOLDER_RECOGNIZERS, RECOGNIZERS } from '../evidence/registry.js';
import { scanFolder } from '../evidence/scan.js';
import type { Evidence } from '../evidence/types.js';
import { readIncidentFile, type IncidentFile } from '../incident/incident-file.js';
import { incidentPaths } from '../incident/layout.js';
import { redactText, redactValue } from '../sglang/redact.js';
import type { Report } from '../contracts/report.js';
import { isCleanTargetStart } from '../triage/next-commands.js';
import { route } from '../triage/route.js';
import type { Invocation, RouteContext } from '../triage/rule.js';
import { RULES } from '../triage/rules/index.js';
import { renderReportMarkdown } from '../../templates/report-markdown.js';
import { writeFileAtomic } from '../fsutil/atomic-write.js';

export interface RouteStepResult {
  report: Report;
  evidence: Evidence;
  context: RouteContext;
  reportJson: string;
  reportMd: string;
}

/** Scan a folder by content, route it, and write report.json + report.md beside the evidence. */
export async function routeStep(dir: string, opts: { registry: Registry; signal: AbortSignal; write?: boolean; invocation?: Invocation }): Promise<RouteStepResult> {
  const paths = incidentPaths(dir);
  const evidence = await scanFolder(paths.root, { recognizers: RECOGNIZERS, folderRecognizers: FOLDER_RECOGNIZERS, signal: opts.signal });
  const context = await routeContextFor(paths.root, evidence, opts.registry, opts.invocation);
  const incident = await readIncidentFile(paths.root);
  const report = redactReport(afterClosedLoop(withReplayOutcome(route(evidence, context, RULES), evidence), incident, context, evidence));
  if (opts.write !== false) {
    await writeFileAtomic(paths.reportJson, `${JSON.stringify(report, null, 2)}\n`);
    await writeFileAtomic(paths.reportMd, renderReportMarkdown(report, { incidentId: incident?.id, server: context.server?.name ?? context.server?.url, incidentDir: paths.root }));
  }
  return { report, evidence, context, reportJson: paths.reportJson, reportMd: paths.reportMd };
}

/** Where the incident came from: incident.json first, then any bundle's metadata, then the registry. */
export async function routeContextFor(root: string, evidence: Evidence, registry: Registry, invocation?: Invocation): Promise<RouteContext> {
  const incident = await readIncidentFile(root);
  const bundleUrl = evidence.of('bundle').map((b) => b.data.base_url).find((u): u is string => Boolean(u));
  const bundleServer = evidence.of('bundle').map((b) => b.data.server).find((s): s is string => Boolean(s));
  const name = incident?.server ?? bundleServer;
  const registered: NamedServer | undefined = name ? findServer(registry, name) : undefined;
  const url = withoutCredentials(registered?.url ?? incident?.serverUrl ?? bundleUrl);
  const closedLoop = incident?.target ? { closedLoop: { pipeline: incident.pipeline ?? 'run', targetUrl: incident.target.url } } : {};
  const base = { root, incidentDir: root, ...(invocation ? { invocation } : {}), ...closedLoop };
  if (!url) return base;
  return {
    ...base,
    server: {
      name: registered?.name ?? (name && !name.includes('://') ? name : undefined),
      url,
      tokenEnv: registered?.tokenEnv,
      adminTokenEnv: registered?.adminTokenEnv,
      logFile: registered?.logFile,
      crashDumpDir: registered?.crashDumpDir,
      requestDumpDir: registered?.requestDumpDir,
      replayLaunch: registered?.replay?.launch ? redactText(registered.replay.launch) : undefined,
      replayTargetUrl: withoutCredentials(registered?.replay?.url),
      replayTokenEnv: registered?.replay?.tokenEnv,
      schedulerProcessPattern: registered?.schedulerProcessPattern,
    },
  };
}

/**
 * Whatever rule wins (a coredump's fault beats the replay that caused it), the report says what the
 * replay reproduced and which request triggered it: facts.reproduced is part of the contract.
 */
function withReplayOutcome(report: Report, evidence: Evidence): Report {
  const replays = [...evidence.of('replay')].sort((a, b) => b.data.finishedAt.localeCompare(a.data.finishedAt));
  const newest = replays[0];
  if (!newest || report.facts.reproduced !== undefined) return report;
  const t = newest.data.trigger;
  return {
    ...report,
    facts: {
      ...report.facts,
      reproduced: newest.data.reproduced,
      ...(t && report.facts.triggerRequest === undefined ? { triggerRequest: { idx: t.idx, rid: t.rid, promptTokens: t.promptTokens, textPreview: t.textPreview, unfinishedInDump: t.unfinishedInDump } } : {}),
    },
    evidence: [...report.evidence, { file: newest.file, fact: `replay on the clean target: reproduced=${String(newest.data.reproduced)}: ${newest.data.reproducedWhy}` }],
  };
}

const REPRODUCED_ON_TARGET = new Set(['crash', 'hang', 'slow']);

/**
 * A pipeline that started the clean target itself has already replayed the trigger there and collected
 * what it showed. Its report says so and keeps only what is left to do: the steps that start the
 * target again or replay the trigger again to reproduce it are dropped.
 */
function afterClosedLoop(report: Report, incident: IncidentFile | null, context: RouteContext, evidence: Evidence): Report {
  const reproduced = report.facts.reproduced;
  if (!incident?.target || typeof reproduced !== 'string' || !REPRODUCED_ON_TARGET.has(reproduced)) return report;
  // The pipeline already read the coredump it collected: opening it again is not left to do.
  const coreRead = evidence.of('cuda-gdb').some((t) => t.file.startsWith('coredumps/'));
  const again = (cmd: string) =>
    /(^|\s)triage (replay|route)\s/.test(cmd) || /(^|\s)triage capture\s.*replay\/bundle/.test(cmd) || isCleanTargetStart(context, cmd) || (coreRead && /target cudacore/.test(cmd));
  const left = report.nextStep.commands.filter((c) => !again(c));
  return {
    ...report,
    nextStep: {
      ...report.nextStep,
      why: `Reproduced (${reproduced}) by \`triage run ${incident.pipeline ?? ''}\` on the clean target ${incident.target.url}, which it started and stopped; its log, dumps and tool output are in this folder. Left to do: ${report.nextStep.why}`,
      commands: left,
    },
  };
}

/** A URL as printed in commands: never with user:password (tokens go through "$ENV"). */
function withoutCredentials(url: string | undefined): string | undefined {
  if (!url) return url;
  try {
    const u = new URL(url);
    if (!u.username && !u.password) return url;
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, url.endsWith('/') ? '/' : '');
  } catch {
    return url;
  }
}

/** Evidence may quote logs and launch commands: one last pass so no secret reaches report files or Slack. */
function redactReport(report: Report): Report {
  const redacted = redactValue(report);
  // Redacting inside a quoted shell word could unbalance its quotes: a command that held something
  // secret-looking is withheld whole, never printed half-redacted. One whose (quoted) path holds a
  // control character would run, but would also print a newline or an escape to the terminal and Slack.
  const commands = report.nextStep.commands.map((c) =>
    /[\x00-\x1f\x7f]/.test(c) ? '# a command was withheld here: a path in it holds control characters (rename it)' : redactText(c) === c ? c : '# a command was withheld here: it named a secret-looking value',
  );
  return { ...redacted, nextStep: { ...redacted.nextStep, commands } };
}
