import { describe, expect, it } from 'vitest';
import { launchPlan } from '../../src/target/launch-plan.js';

const layout = { replayDir: '/inc/replay', coredumpsDir: '/inc/coredumps', logsDir: '/inc/logs' };

describe('launchPlan: what a pipeline adds to the clean target', () => {
  it('crash: SGLang coredumps into the incident and a crash-dump folder when the launch has none', () => {
    const p = launchPlan('python -m sglang.launch_server --model-path M --port 31000', 'crash', layout);
    expect(p.command).toBe('python -m sglang.launch_server --model-path M --port 31000 --crash-dump-folder /inc/replay/crash-dumps');
    expect(p.env).toEqual({ SGLANG_CUDA_COREDUMP: '1', SGLANG_CUDA_COREDUMP_DIR: '/inc/coredumps/target' });
    expect(p.coredumpDirs).toEqual(['/inc/coredumps/target', '/inc/replay/crash-dumps']);
  });

  it('keeps a crash-dump folder the launch already names (either flag spelling) and searches it', () => {
    expect(launchPlan('sglang serve --crash-dump-folder /data/crash', 'crash', layout)).toMatchObject({ crashDumpFolder: '/data/crash', command: 'sglang serve --crash-dump-folder /data/crash' });
    expect(launchPlan("sglang serve --crash-dump-folder='/my dumps'", 'hang', layout).crashDumpFolder).toBe('/my dumps');
  });

  it('hang: user-triggered coredumps through a pipe inside the incident, NCCL COLL logs per process, and the folders made first', () => {
    const p = launchPlan('sglang serve', 'hang', layout);
    expect(p.env).toMatchObject({ CUDA_ENABLE_USER_TRIGGERED_COREDUMP: '1', CUDA_COREDUMP_PIPE: '/inc/coredumps/corepipe.cuda.%h.%p', NCCL_DEBUG: 'INFO', NCCL_DEBUG_SUBSYS: 'COLL', NCCL_DEBUG_FILE: '/inc/logs/nccl.%h.%p.log' });
    expect(p.dirs).toEqual(expect.arrayContaining(['/inc/coredumps', '/inc/logs', '/inc/replay/crash-dumps']));
  });

  it('an incident path with shell characters is quoted where it joins the launch line', () => {
    const p = launchPlan('sglang serve', 'crash', { ...layout, replayDir: "/inc/it's $(x)/replay" });
    expect(p.command).toBe(`sglang serve --crash-dump-folder '/inc/it'\\''s $(x)/replay/crash-dumps'`);
  });

  it('slow and plain add nothing', () => {
    expect(launchPlan('sglang serve', 'slow', layout)).toMatchObject({ command: 'sglang serve', env: {}, dirs: [] });
  });
});
