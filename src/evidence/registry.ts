import { bundleRecognizer } from './bundle/recognizer.js';
import { dumpRecognizer } from './dump/recognizer.js';
import { PIPELINE_ARTIFACT_RECOGNIZERS } from './pipeline-artifacts.js';
import { replayRecognizer } from './replay.js';
import { GPU_RECOGNIZERS } from './gpu/index.js';
import { torchTraceRecognizer } from './profile/index.js';
import type { FolderRecognizer } from './scan.js';
import type { Recognizer } from './types.js';

/** Every content recognizer. Order matters only for the order of `checked` lines. */
export const RECOGNIZERS: readonly Recognizer[] = [replayRecognizer as Recognizer, ...GPU_RECOGNIZERS, torchTraceRecognizer as Recognizer, dumpRecognizer as Recognizer, ...PIPELINE_ARTIFACT_RECOGNIZERS];

export const FOLDER_RECOGNIZERS: readonly FolderRecognizer[] = [bundleRecognizer as FolderRecognizer];
