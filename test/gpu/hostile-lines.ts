/**
 * Long runs of every character class behind the prefixes our parsers key on: the inputs that make a
 * backtracking pattern superlinear. Shared by the recogniser test (hostile-lines.test.ts).
 */
export const CLASSES = ['a', 'Z', '0', 'f0', ' ', '\t', '(', ')', '<', '>', '[', ']', '{', '}', ':', ';', ',', '.', '/', '\\', '-', '_', '=', '+', '*', '#', '@', '!', '?', "'", '"', '|', '%', '$', '&', '~', '`', '\u00e9', 'a:', 'a ', '0x', '(a', 'a(', 'a<', '<a', '<<<(', 'a.', 'a-', ' a', '0:', ':0', '0 ', 'a=', '[0', '0]', 'a,', ', ', '.py', ' in ', ' at ', ' from ', '::', 'a::', '+0x', '#0 ', '> ', '= ', '] ', 'LWP ', '0,', '(0,', '0MiB', '"a", line 1, in ', ' (a', '] NCCL ', 'a:0:0 [0'];

export const PREFIXES = [
  '',
  'CUDA Exception: ',
  'The exception was triggered at PC 0x1 ',
  '#0  0x0 in ',
  'Thread 1 (Thread 0x1 (LWP 2) "a"):',
  '*      0      -   0   22 Active 0x0 (1,1,1) (1,1,1) ',
  '   0x7f22cf7a1ae0 <',
  '[Current focus set to CUDA ',
  'Program terminated with signal ',
  '========= ',
  '=========     at ',
  '=========     Device Frame:',
  'coredump: ',
  'vm:1:1 [0] NCCL INFO ',
  'vm:1:1 [0] NCCL INFO AllGather: opCount 0 ',
  '[2026-01-01 00:00:00 TP0] ',
  '  File "',
  'Process 12: ',
  '    ',
  '| ',
  '|   0  ',
  'Traceback (most recent call last):',
  'RuntimeError: CUDA error: ',
  ' Assertion `',
  '/x.cu:1: ',
];
