import { PIPELINE_INFO, RUNNABLE_PIPELINES } from '../pipelines/catalog.js';
import { DEFAULT_TIMEOUT_S, HEALTH_TIMEOUT_S } from '../sglang/endpoints.js';

/**
 * `triage <command> --help`: the usage line comes from the command itself (parseCommandArgs), the
 * rest from here. Pure text, so a test can check every subcommand has one.
 */
export const COMMAND_NAMES = ['capture', 'dump', 'replay', 'route', 'run', 'help'] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

const SERVERS = '  --servers FILE        servers.yaml (default $TRIAGE_SERVERS); see examples/servers.yaml';
const JSON_FLAG = '  --json                one JSON document on stdout (failures too: {"error": {code, message}})';

export const COMMAND_SUMMARY: Readonly<Record<CommandName, string>> = {
  capture: 'read-only bundle of a live server, summarised and routed',
  dump: 'summarise a crash dump or request dump (nothing in the pickle runs)',
  replay: 'replay saved requests on a clean target (never production by name)',
  route: 'classify the evidence in a folder; writes report.json and report.md',
  run: 'a whole pipeline into a new incident folder',
  help: 'this list, or one command\'s help',
};

export const COMMAND_DETAILS: Readonly<Record<CommandName, string>> = {
  capture: [
    'Keep the scene: reads every SGLang endpoint of a live server at once (GET only, nothing changes on',
    'the server), writes a bundle with the reference tool\'s file names, prints its summary and the',
    'routed report. Secrets are redacted before anything is written or printed.',
    '',
    '  <server|url>          a name from servers.yaml, or a URL such as http://127.0.0.1:30000',
    '  --out DIR             bundle folder (default ./triage-bundle-<UTC time>)',
    `  --timeout S           per-endpoint timeout in seconds (default ${DEFAULT_TIMEOUT_S}); bounds the health probes too`,
    `  --health-timeout S    timeout of /health and /health_generate (default ${HEALTH_TIMEOUT_S}: SGLang answers 503 only after 20 s)`,
    '  --token T             bearer token (default: the server\'s tokenEnv, then $SGLANG_BEARER_TOKEN)',
    SERVERS,
    JSON_FLAG,
  ].join('\n'),
  dump: [
    'Summarises SGLang crash dumps (--crash-dump-folder) and request dumps (/configure_logging) with a',
    'bounded pickle reader of our own: nothing in the file runs. A folder means every *.pkl under it.',
    '',
    '  <file|folder>         a .pkl file, or a folder of them',
    '  --out DIR             also write DIR/dump-summary.json',
    JSON_FLAG,
  ].join('\n'),
  replay: [
    'Sends the saved requests to a clean replay target with their original timing and writes',
    '<out>/replay/replay.json. A server NAME as --target means its servers.yaml replay.url, never its',
    'production url. Exit 0 when the replay reached a verdict (a hang or crash of the target is a finding),',
    '1 when it was interrupted or inconclusive.',
    '',
    '  <dump|folder>         a dump file, or a folder of them (an incident\'s dumps/)',
    '  --target <server|url> the clean target (required)',
    '  --parallel N          requests in flight at most (default 512)',
    '  --speed X             replay X times faster than recorded (default 1)',
    '  --ignore-eos          generate to max_new_tokens whatever the model says',
    '  --req-start N, --req-number N   replay a slice of the requests',
    '  --timeout S           per-request deadline in seconds (default 120); a request past it is a hang',
    '  --token T             bearer token (default: the replay target\'s tokenEnv, then $SGLANG_BEARER_TOKEN)',
    '  --keep-going          keep sending after the target stops answering',
    '  --out DIR             incident folder (default: the folder holding dumps/, else a new one)',
    SERVERS,
    JSON_FLAG,
  ].join('\n'),
  route: [
    'Reads any folder (an incident folder, a bundle of ours or of the reference tool) and recognises',
    'evidence by content, whatever the files are called. Prints the problem class, the strongest signal,',
    'the next skill and its commands; writes report.json and report.md into the folder.',
    '',
    '  <incident-dir|bundle-dir>',
    '  --no-write            print only; leave the folder untouched',
    SERVERS,
    JSON_FLAG,
  ].join('\n'),
  run: [
    'Runs a whole pipeline in-process (no Slack, no Redis) into a new incident folder under',
    '$TRIAGE_DATA_DIR (default ./incidents). Evidence steps are best effort; the folder is always routed.',
    '',
    'pipelines:',
    ...RUNNABLE_PIPELINES.map((p) => `  ${p.padEnd(14)}${PIPELINE_INFO[p].intrusive ? '(intrusive) ' : ''}${PIPELINE_INFO[p].summary}${PIPELINE_INFO[p].needs ? `; needs ${PIPELINE_INFO[p].needs}` : ''}`),
    '',
    '  --out DIR             incident folder (default $TRIAGE_DATA_DIR/<id>)',
    '  --timeout S           per-request timeout of the capture steps',
    '  --good REF --bad REF  regression: the known-good and known-bad git revisions',
    '  --run                 regression: also run `git bisect run` with the harness (in --repo DIR, default .)',
    '  --compare-production  wrong-output: also send the greedy replay to production (intrusive)',
    SERVERS,
    JSON_FLAG,
  ].join('\n'),
  help: 'triage help            every command\ntriage help <command>  that command\'s help (same as triage <command> --help)',
};

export const HELP_USAGE = 'triage help [command]';
