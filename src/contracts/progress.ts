/** Progress of a pipeline, streamed to the terminal, to incident.json's timeline and (via job progress) to Slack. */
export type StepState = 'started' | 'done' | 'failed' | 'skipped';

export interface StepProgress {
  step: string;
  state: StepState;
  detail?: string;
  at: string;
  /** Live counters of a long step (a replay: requests sent, done, failed), sent at least every few seconds. */
  counters?: Record<string, number>;
  /** When the step's deadline passes (ISO time), so a status message can show it. */
  deadline?: string;
}

export type ProgressSink = (progress: StepProgress) => void;
