/**
 * Builds small ELF files in test set-up, laid out like the CUDA driver's GPU coredump (checked with
 * `readelf -h -S` on the real H200 one in test/fixtures/gpu-h200/crash.cuda-coredump.tar.xz): ELF64
 * little-endian, OS/ABI 0x33, ET_CORE, EM_CUDA (190), no program headers, `.cudbg.*` sections and the
 * section table at the end of the file. Options make the look-alikes a finder must reject or accept.
 */
export interface ElfOptions {
  sections?: string[];
  machine?: number;
  osabi?: number;
  type?: number;
  /** PT_NOTE notes (name → descriptor bytes), as a host core carries them. */
  notes?: Array<{ name: string; type: number; desc?: Buffer }>;
  /** Cut the file to this many bytes (a dump still being written). */
  truncateAt?: number;
}

export const CUDA_SECTIONS = ['.cudbg.devtbl', '.cudbg.ctxtbl.dev0', '.cudbg.modtbl.dev0.ctx0', '.cudbg.relfimg.dev0.ctx0', '.cudbg.gridtbl.dev0', '.cudbg.smtbl.dev0'];

export function makeElf(o: ElfOptions = {}): Buffer {
  const sections = o.sections ?? CUDA_SECTIONS;
  const names = ['', ...sections, '.shstrtab'];
  const nameOff: number[] = [];
  let strtab = Buffer.alloc(0);
  for (const n of names) {
    nameOff.push(strtab.length);
    strtab = Buffer.concat([strtab, Buffer.from(`${n}\0`, 'latin1')]);
  }
  const notes = o.notes ?? [];
  const noteBufs = notes.map((n) => {
    const name = Buffer.from(`${n.name}\0`, 'latin1');
    const desc = n.desc ?? Buffer.alloc(8, 1);
    const pad = (b: Buffer): Buffer => Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
    const head = Buffer.alloc(12);
    head.writeUInt32LE(name.length, 0);
    head.writeUInt32LE(desc.length, 4);
    head.writeUInt32LE(n.type, 8);
    return Buffer.concat([head, pad(name), pad(desc)]);
  });
  const noteData = Buffer.concat(noteBufs);
  const phnum = notes.length ? 1 : 0;
  const phoff = phnum ? 64 : 0;
  const noteOff = 64 + phnum * 56;
  const strOff = noteOff + noteData.length;
  const shoff = strOff + strtab.length;

  const h = Buffer.alloc(64);
  h.write('\u007fELF', 0, 'latin1');
  h[4] = 2; // ELFCLASS64
  h[5] = 1; // little endian
  h[6] = 1;
  h[7] = o.osabi ?? 0x33;
  h[8] = 7;
  h.writeUInt16LE(o.type ?? 4, 16);
  h.writeUInt16LE(o.machine ?? 190, 18);
  h.writeUInt32LE(1, 20);
  h.writeBigUInt64LE(BigInt(phoff), 32);
  h.writeBigUInt64LE(BigInt(shoff), 40);
  h.writeUInt16LE(64, 52);
  h.writeUInt16LE(56, 54);
  h.writeUInt16LE(phnum, 56);
  h.writeUInt16LE(64, 58);
  h.writeUInt16LE(names.length, 60);
  h.writeUInt16LE(names.length - 1, 62);

  const ph = Buffer.alloc(phnum * 56);
  if (phnum) {
    ph.writeUInt32LE(4, 0); // PT_NOTE
    ph.writeBigUInt64LE(BigInt(noteOff), 8);
    ph.writeBigUInt64LE(BigInt(noteData.length), 32);
    ph.writeBigUInt64LE(BigInt(noteData.length), 40);
  }
  const shdrs = Buffer.alloc(names.length * 64);
  names.forEach((_, i) => {
    if (i === 0) return;
    const at = i * 64;
    shdrs.writeUInt32LE(nameOff[i]!, at);
    const isStr = i === names.length - 1;
    shdrs.writeUInt32LE(isStr ? 3 : 0x80000009, at + 4);
    shdrs.writeBigUInt64LE(BigInt(isStr ? strOff : 64), at + 24);
    shdrs.writeBigUInt64LE(BigInt(isStr ? strtab.length : 0), at + 32);
  });
  const file = Buffer.concat([h, ph, noteData, strtab, shdrs]);
  return o.truncateAt !== undefined ? file.subarray(0, o.truncateAt) : file;
}
